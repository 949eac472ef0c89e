// One esbuild setup for every page this repository serves to Chromium (the GPU test suite, the
// GPU bench, the demo): a single IIFE script with tfjs and the library, built in memory.
import {build} from 'esbuild';

/** Bundles `entry` for the browser and returns the script's text. */
export async function bundleForBrowser(entry: string, alias?: Record<string, string>): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    define: {'process.env.NODE_ENV': '"production"'},
    ...(alias ? {alias} : {}),
  });
  return result.outputFiles[0].text;
}
