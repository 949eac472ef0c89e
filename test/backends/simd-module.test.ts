// The committed SIMD module (src/backends/fused/simd-bytes.ts) is what wasm/fused-kernels.ts
// compiles to, and it is self-contained: it imports only the backend's memory and writes no data
// segments into it (it shares the wasm backend's heap, so a data segment would overwrite tfjs's).
import {execFileSync} from 'child_process';
import * as path from 'path';

import {SIMD_MODULE_BASE64} from '../../src/backends/fused/simd-bytes';

const root = path.join(__dirname, '..', '..');

describe('the fused kernels SIMD module', () => {
  it('matches its AssemblyScript source (npm run build:wasm)', () => {
    const out = execFileSync('node', [path.join(root, 'scripts', 'build-wasm.js'), '--check'], {encoding: 'utf8'});
    expect(out).toContain('simd module up to date');
  }, 120_000);

  it('imports only env.memory, exports only functions, and has no data segments', () => {
    const module = new WebAssembly.Module(Buffer.from(SIMD_MODULE_BASE64, 'base64'));
    expect(WebAssembly.Module.imports(module)).toEqual([{module: 'env', name: 'memory', kind: 'memory'}]);
    expect(new Set(WebAssembly.Module.exports(module).map((e) => e.kind))).toEqual(new Set(['function']));
    // Section id 11 is the data section: scan the top-level sections.
    const bytes = Buffer.from(SIMD_MODULE_BASE64, 'base64');
    const sections: number[] = [];
    let at = 8;
    while (at < bytes.length) {
      const id = bytes[at++];
      let size = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = bytes[at++];
        size |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      sections.push(id);
      at += size;
    }
    expect(sections).not.toContain(11);
  });
});
