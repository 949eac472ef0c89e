// `npm run bench`: every benchmark, side by side in one run, on cpu and wasm (and tensorflow when
// @tensorflow/tfjs-node is installed). `npm run bench -- --only classification|regression|shapes|dense|images|metric|mining|sequence|generative|training`,
// `--backends cpu,wasm`, `--batch 256 --classes 1000`.
import {parseArgs} from 'util';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import {enableWasmTraining} from '../src';

import {benchWorkloads, classificationWorkloads, Row} from './classification';
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
    },
  });
  const backends = values.backends ? values.backends.split(',') : availableBackends();
  enableWasmTraining();
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
  if (!values.only || values.only === 'training') {
    console.log('\n## One training step of the MNIST CNN (batch 64)\n');
    await benchWasmTraining();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
