import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

function directoryOf(url: string): string {
  return url.startsWith('file://') ? url.slice('file://'.length) : url;
}

/**
 * A Node filesystem IOHandler for `model.save` and `tf.loadLayersModel`, for when
 * `@tensorflow/tfjs-node` (which brings `file://`) is not installed. Writes the same layout as
 * tfjs-node: `DIR/model.json` and `DIR/weights.bin`.
 *
 * ```js
 * const {fileSystem} = require('tfjs-losses/node');
 * await model.save(fileSystem('./my-model'), {includeOptimizer: true});
 * const loaded = await tf.loadLayersModel(fileSystem('./my-model'));
 * ```
 */
export function fileSystem(directory: string): tf.io.IOHandler {
  const dir = directoryOf(directory);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileSystem: binary model topologies are not supported');
      }
      await fs.promises.mkdir(dir, {recursive: true});
      const weightData = artifacts.weightData === undefined ?
          new ArrayBuffer(0) :
          tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? []}],
      };
      await fs.promises.writeFile(path.join(dir, WEIGHTS_FILE), Buffer.from(weightData));
      await fs.promises.writeFile(path.join(dir, MODEL_FILE), JSON.stringify(modelJSON));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weightData.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelPath = path.join(dir, MODEL_FILE);
      let text: string;
      try {
        text = await fs.promises.readFile(modelPath, 'utf8');
      } catch (e) {
        throw new Error(`fileSystem: cannot read ${modelPath}: ${(e as Error).message}`);
      }
      const modelJSON = JSON.parse(text) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: Buffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) buffers.push(await fs.promises.readFile(path.join(dir, p)));
        }
        const joined = Buffer.concat(buffers);
        const data = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
        return [specs, data as ArrayBuffer];
      });
    },
  };
}
