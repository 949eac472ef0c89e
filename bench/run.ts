// `npm run bench`: every benchmark, side by side in one run, on cpu and wasm (and tensorflow when
// @tensorflow/tfjs-node is installed). `npm run bench -- --only classification|regression|shapes|dense|images|metric|mining|sequence|generative|fused|training`,
// `--only vocab [--vocab 8192x32000] [--vocab-composite]` (not in the full run: 1 GB of logits),
// `--backends cpu,wasm`, `--batch 256 --classes 1000`, `--elements 1000000` (fused regression
// workloads), `--torch` (PyTorch CPU, one thread, beside the fused kernels; needs /usr/bin/python3 with torch).
import {parseArgs} from 'util';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import {enableWasmTraining, FAST_WASM_TRAINING} from '../src';

import {benchWorkloads, classificationWorkloads, Row} from './classification';
import {benchFused, benchLargeVocabulary} from './fused';
import {denseWorkloads} from './dense';
import {imageWorkloads} from './images';
import {regressionWorkloads} from './regression';
import {generativeWorkloads} from './generative';
import {metricWorkloads} from './metric';
import {miningWorkloads} from './mining';
import {shapeWorkloads} from './shapes';
import {sequenceWorkloads} from './sequence';
import {printTable} from './timing';
import {benchWasmTraining} from './wasm-training';

function availableBackends(): string[] {
  const names = ['cpu', 'wasm'];
  try {
    require('@tensorflow/tfjs-node');
    names.push('tensorflow');
  } catch {
    // tfjs-node is optional and often cannot be installed.
  }
  return names;
}

async function main() {
  const {values} = parseArgs({
    options: {
      only: {type: 'string'},
      backends: {type: 'string'},
      batch: {type: 'string', default: '256'},
      classes: {type: 'string', default: '1000'},
      runs: {type: 'string', default: '7'},
      elements: {type: 'string', default: '1000000'},
      torch: {type: 'boolean', default: false},
      vocab: {type: 'string', default: '8192x32000'},
      'vocab-composite': {type: 'boolean', default: false},
    },
  });
  const backends = values.backends ? values.backends.split(',') : availableBackends();
  // As useBackend() sets wasm up (the shared clones matter here: every loss saves its inputs); every column alike.
  enableWasmTraining(FAST_WASM_TRAINING);
  console.log(`node ${process.version}, tfjs ${tf.version.tfjs}, ${require('os').cpus().length} cores (${require('os').cpus()[0].model})`);
  const families = {
    classification: classificationWorkloads, regression: regressionWorkloads, shapes: shapeWorkloads, dense: denseWorkloads, images: imageWorkloads,
    metric: metricWorkloads, mining: miningWorkloads, sequence: sequenceWorkloads, generative: generativeWorkloads,
  };
  for (const [family, make] of Object.entries(families)) {
    if (values.only && values.only !== family) continue;
    const batch = Number(values.batch);
    const classes = Number(values.classes);
    console.log(`\n## ${family} losses, forward+backward median ms, [${batch}, ${classes}]\n`);
    const rows: Row[] = [];
    for (const backend of backends) {
      await tf.setBackend(backend);
      await tf.ready();
      const {x, workloads} = make(batch, classes);
      rows.push(...benchWorkloads(x, workloads, Number(values.runs)));
    }
    printTable(['backend', 'loss', 'ours', 'ours, no value checks', 'tfjs built-in', 'autograd composite',
      'ours/composite', 'unchecked/composite', 'ours/built-in'],
    rows.map((r) => [r.backend, r.loss, r.ours, r.oursUnchecked, r.builtin, r.composite,
      r.ours / r.composite, r.oursUnchecked / r.composite, r.builtin ? r.ours / r.builtin : NaN]));
  }
  if (!values.only || values.only === 'fused') {
    const sizes = {batch: Number(values.batch), classes: Number(values.classes), elements: Number(values.elements)};
    console.log(`\n## fused kernels, forward+backward median ms ([${sizes.batch}, ${sizes.classes}] logits, ` +
        `${sizes.elements} regression elements, [16,64,64,4] Dice logits)\n`);
    const rows = await benchFused(backends, sizes, Number(values.runs), values.torch ?? false);
    printTable(['backend', 'loss', 'fused ran', 'fused', 'previous composite', 'tfjs built-in', 'autograd composite',
      'PyTorch CPU 1 thread', 'built-in/fused', 'composite/fused', 'fused/PyTorch'],
    rows.map((r) => [r.backend, r.loss, r.fusedRan ? 'yes' : 'no', r.fused, r.previous, r.builtin, r.composite, r.torch,
      r.builtin / r.fused, r.composite / r.fused, r.fused / r.torch]));
  }
  if (values.only === 'vocab') {
    const [n, c] = values.vocab!.split('x').map(Number);
    console.log(`\n## large vocabulary: sparse CE from logits [${n}, ${c}], forward+backward, one call\n`);
    const rows = await benchLargeVocabulary(backends, n, c, values['vocab-composite'] ?? false);
    printTable(['backend', 'path', 'ms', 'peak added MB (tf.memory().numBytes)', 'logits MB', 'peak added / logits'],
        rows.map((r) => [r.backend, r.path, r.ms, r.peakAddedBytes / 1e6, r.logitsBytes / 1e6, r.peakAddedBytes / r.logitsBytes]));
  }
  if (!values.only || values.only === 'training') {
    console.log('\n## One training step of the MNIST CNN (batch 64)\n');
    await benchWasmTraining({torch: values.torch ?? false});
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
