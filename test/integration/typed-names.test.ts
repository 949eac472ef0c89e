// Every name the registry holds at import is typed: a generated file calls `get` with each one and
// must compile, and a name that is not registered must not. The types come from the exported loss
// functions, the runtime names from registration: this test keeps the two the same set.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as ts from 'typescript';

import * as losses from '../../src';

const root = path.resolve(__dirname, '../..');

function compile(source: string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-types-'));
  const file = path.join(dir, 'names.ts');
  fs.writeFileSync(file, source.replace(/SRC/g, JSON.stringify(path.join(root, 'src'))));
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2019,
    module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true,
    types: [], lib: ['lib.es2019.d.ts', 'lib.dom.d.ts'],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
  fs.rmSync(dir, {recursive: true, force: true});
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('registered names and their types', () => {
  it('every name registered at import is a typed LossName, and nothing else is', () => {
    const names = losses.registeredNames();
    expect(names.length).toBeGreaterThan(40);
    const source = `import * as losses from SRC;\n` +
        `export const all = [${names.map((n) => `losses.get(${JSON.stringify(n)})`).join(',\n  ')}];\n` +
        `type Typed = losses.LossName;\n` +
        `const runtime = [${names.map((n) => JSON.stringify(n)).join(', ')}] as const;\n` +
        // The reverse direction: every typed name is among the runtime names.
        `type Missing = Exclude<Typed, (typeof runtime)[number]>;\n` +
        `export const noTypedNameMissingAtRuntime: [Missing] extends [never] ? true : Missing = true;\n`;
    expect(compile(source)).toEqual([]);
  }, 120000);
});
