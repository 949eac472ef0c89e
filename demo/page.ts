// The browser demo's page (bundled by demo/server.ts). Two tasks — MNIST classification and the
// segmentation example's generated shapes — each offering the registered losses that fit it; the
// chosen loss's value and slope against the margin of a task-shaped batch, with a summary computed
// from them; training on any backend, every result tagged with its task, loss, options and backend.
//
// URL parameters (for links and the timing script): ?task=mnist|shapes, ?backend=webgl|wasm|…,
// ?wasmThreads=off (the single-threaded SIMD build) or ?wasmThreads=N (the threaded build, N threads).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import {getThreadsCount, setThreadsCount, setWasmPaths} from '@tensorflow/tfjs-backend-wasm';

import * as losses from '../src';
import * as classificationFamily from '../src/classification';
import * as detectionFamily from '../src/detection';
import * as generativeFamily from '../src/generative';
import * as geometryFamily from '../src/geometry';
import * as metricFamily from '../src/metric';
import * as regressionFamily from '../src/regression';
import * as segmentationFamily from '../src/segmentation';
import * as sequenceFamily from '../src/sequence';
import * as visionFamily from '../src/vision';
import {generateShapes, NUM_CLASSES as SHAPE_CLASSES, SegmentationSet, SIZE} from '../examples/segmentation/data';
import {iou} from '../examples/segmentation/iou';
import {buildSegmentationModel} from '../examples/segmentation/model';

import {drawLineChart, Series} from './charts';

const params = new URLSearchParams(location.search);
setWasmPaths('/wasm/');

/**
 * tfjs-backend-wasm 4.22 gives XNNPACK at most navigator.hardwareConcurrency / 2 threads, whatever
 * setThreadsCount asks (it assumes two hyper-threads per core): one thread on a 2-core machine.
 * `?wasmThreads=N` asks for N and reports 2N cores to the wasm module while it starts (its C++
 * reads the count once, when the module is instantiated); the property is restored once the
 * backend runs.
 */
let restoreConcurrency: (() => void)|undefined;
const CORES = navigator.hardwareConcurrency;
{
  const threads = params.get('wasmThreads');
  if (threads === 'off') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } else if (threads !== null && /^[1-9]\d*$/.test(threads)) {
    setThreadsCount(Number(threads));
    const reported = Math.max(CORES, 2 * Number(threads));
    Object.defineProperty(navigator, 'hardwareConcurrency', {configurable: true, get: () => reported});
    restoreConcurrency = () => { delete (navigator as {hardwareConcurrency?: number}).hardwareConcurrency; };
  }
}
losses.enableWasmTraining();  // wasm only; lets tfjs-backend-wasm train what it cannot alone

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x)).replace('-', '−');
const sig = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x)).replace('-', '−');

type Options = Record<string, unknown>;
type TaskId = 'mnist'|'shapes';
/** What the model outputs: probabilities, raw logits (scores), or log-probabilities. */
type Head = 'softmax'|'logits'|'logSoftmax';

// ---- the tasks ----

interface Task {
  id: TaskId;
  title: string;
  numClasses: number;
  /** The form's values when the task is chosen. */
  defaults: {epochs: number; count: number; batchSize: number; learningRate: number};
  maxCount: number;
  countLabel: string;
  metricLabel: string;
  defaultLoss: string;
}

const TASKS: Record<TaskId, Task> = {
  mnist: {
    id: 'mnist', title: 'MNIST classification', numClasses: 10,
    defaults: {epochs: 1, count: 8000, batchSize: 64, learningRate: 0.001}, maxCount: 8000,
    countLabel: 'training digits', metricLabel: 'test accuracy', defaultLoss: 'sparseCategoricalCrossentropy',
  },
  shapes: {
    id: 'shapes', title: 'shape segmentation', numClasses: SHAPE_CLASSES,
    // examples/segmentation: 600 training images, batch 32, Adam 0.01.
    defaults: {epochs: 3, count: 600, batchSize: 32, learningRate: 0.01}, maxCount: 4000,
    countLabel: 'training images', metricLabel: 'held-out mean IoU', defaultLoss: 'sparseCategoricalCrossentropy + diceLoss',
  },
};

/** examples/segmentation's SEGMENTATION_DEFAULTS (train.ts is Node-only: it writes PNGs). */
const SHAPES_DATA_SEED = 1234;
const SHAPES_HELD_OUT = 150;
const SHAPE_NAMES = ['background', 'circle', 'square', 'triangle'];
/** examples/segmentation/png.ts's CLASS_COLOURS. */
const SHAPE_COLOURS: Array<[number, number, number]> = [[40, 40, 40], [230, 60, 60], [60, 200, 80], [70, 120, 240]];

let task: Task = TASKS[params.get('task') === 'shapes' ? 'shapes' : 'mnist'];

// ---- which losses fit which task ----

/** Families whose losses read something other than class targets, and what they read. */
const FAMILY_REASONS: Record<string, string> = {
  regression: 'a regression loss: real-valued targets, not classes',
  detection: 'reads boxes [..., 4], not class scores',
  geometry: 'reads rotations (quaternions or rotation matrices), not class scores',
  metric: 'reads embeddings (pairs, triplets or batches of them), not class scores',
  sequence: 'reads sequences (CTC alignments)',
  generative: 'a GAN / critic loss: reads discriminator outputs',
  vision: 'reads images or attention maps, not class scores',
};

const FAMILIES: Record<string, object> = {
  classification: classificationFamily, segmentation: segmentationFamily, regression: regressionFamily,
  detection: detectionFamily, geometry: geometryFamily, metric: metricFamily, sequence: sequenceFamily,
  generative: generativeFamily, vision: visionFamily,
};

/** Registered base name → the family (src/<family>/) that exports it. */
const familyOfLoss = new Map<string, string>();
for (const [family, module] of Object.entries(FAMILIES)) {
  for (const value of Object.values(module)) {
    const name = (value as {lossName?: unknown})?.lossName;
    if (typeof name === 'string') familyOfLoss.set(name, family);
  }
}

/** Class losses whose targets are not the task's labels. */
const OTHER_TARGETS: Record<string, string> = {
  distillationLoss: 'reads a teacher model\'s logits as its targets, not labels',
  multiLabelMarginLoss: 'reads each sample\'s list of target class indices ended by −1 (torch\'s multilabel_margin_loss), not one-hot rows',
  softMarginLoss: 'reads ±1 labels, not 0/1 targets',
};

/** Classification losses of label kind 'other' that read one-hot rows as they are. */
const READS_ONE_HOT: Record<string, string> = {euclideanLoss: '½‖p − y‖² of one-hot rows'};

/** Losses that read raw scores (no fromLogits option) and those that read log-probabilities. */
const READS_SCORES: Record<string, string> = {
  multiClassHinge: 'class scores', lovaszSoftmaxLoss: 'logits', lovaszHingeLoss: 'logits', polyLoss: 'logits',
  multiLabelSoftMarginLoss: 'logits',
};
const READS_LOG_PROBABILITIES = new Set(['nllLoss']);

/** Why `name` does not fit `taskId`, or undefined when it does. */
function unfitReason(taskId: TaskId, name: string): string|undefined {
  const {base, labels} = losses.describeLoss(name as losses.LossName);
  const family = familyOfLoss.get(base) ?? 'classification';
  if (FAMILY_REASONS[family]) return FAMILY_REASONS[family];
  if (OTHER_TARGETS[base]) return OTHER_TARGETS[base];
  if (taskId === 'mnist') {
    if (['categorical', 'sparse', 'binary', 'indexOrOneHot'].includes(labels) || READS_ONE_HOT[base]) return undefined;
    return `reads targets of kind '${labels}', not class labels`;
  }
  if (['categorical', 'sparse', 'indexOrOneHot'].includes(labels)) return undefined;
  if (labels === 'binary') {
    return family === 'segmentation' ? 'reads binary masks (one foreground class); these masks have three shape classes' :
                                       'scores each class on its own (binary); each pixel here has exactly one class';
  }
  return 'not a per-pixel class loss';
}

interface Part {
  name: losses.LossName;
  weight: number;
  /** The demo's starting values where they differ from the loss's defaults. */
  initial: Options;
}

interface Choice {
  id: string;
  group: string;
  parts: Part[];
}

/** Named combinations offered for segmentation (examples/segmentation trains the first). */
const COMBINATIONS: Array<Array<[string, number, Options]>> = [
  [['sparseCategoricalCrossentropy', 1, {fromLogits: true}], ['diceLoss', 1, {fromLogits: true}]],
  [['categoricalCrossentropy', 1, {fromLogits: true}], ['lovaszSoftmaxLoss', 1, {}]],
];

const GROUPS: Record<string, string> = {
  sparse: 'class-index targets', categorical: 'one-hot targets', binary: 'per-class binary targets',
  indexOrOneHot: 'overlap losses (class indices or one-hot)', other: 'other',
};

/** A demo starting value: overlap losses pool the batch on MNIST (the note in lossChanged says why). */
function taskInitial(taskId: TaskId, name: string): Options {
  const {schema} = losses.describeLoss(name as losses.LossName);
  return taskId === 'mnist' && 'batch' in schema ? {batch: true} : {};
}

/**
 * Losses the rules admit but that fail on the task's targets (a probe of each, on the cpu backend,
 * when the page loads): name → why.
 */
const probeFailures: Record<TaskId, Map<string, string>> = {mnist: new Map(), shapes: new Map()};

function lossesFor(taskId: TaskId): {offered: Choice[]; excluded: Array<{name: string; reason: string}>} {
  const {offered, excluded} = candidates(taskId);
  const failures = probeFailures[taskId];
  for (const c of offered) {
    if (failures.has(c.id)) excluded.push({name: c.id, reason: failures.get(c.id)!});
  }
  return {offered: offered.filter((c) => !failures.has(c.id)), excluded};
}

/** The losses the rules admit for a task (unfitReason), and the combinations of them. */
function candidates(taskId: TaskId): {offered: Choice[]; excluded: Array<{name: string; reason: string}>} {
  const offered: Choice[] = [];
  const excluded: Array<{name: string; reason: string}> = [];
  for (const name of losses.registeredNames()) {
    const info = losses.describeLoss(name as losses.LossName);
    if (info.base !== name) continue;  // an alias (cce, mse, …): its base is listed
    const reason = unfitReason(taskId, name);
    if (reason) {
      excluded.push({name, reason});
    } else {
      offered.push({id: name, group: GROUPS[info.labels] ?? 'other', parts: [{name: name as losses.LossName, weight: 1, initial: taskInitial(taskId, name)}]});
    }
  }
  if (taskId === 'shapes') {
    for (const parts of COMBINATIONS) {
      if (!parts.every(([name]) => offered.some((c) => c.id === name))) continue;
      offered.push({
        id: parts.map(([name]) => name).join(' + '), group: 'combinations (losses.combineLosses)',
        parts: parts.map(([name, weight, initial]) => ({name: name as losses.LossName, weight, initial})),
      });
    }
  }
  return {offered, excluded};
}

let offered: Choice[] = [];
let choice: Choice;

// ---- the loss picker and its options ----

function fillLossPicker(preferred?: string): void {
  const lists = lossesFor(task.id);
  offered = lists.offered;
  const select = $<HTMLSelectElement>('loss');
  select.replaceChildren();
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const c of offered) {
    if (!groups.has(c.group)) {
      const group = document.createElement('optgroup');
      group.label = c.group;
      groups.set(c.group, group);
      select.append(group);
    }
    groups.get(c.group)!.append(new Option(c.id, c.id));
  }
  const keep = offered.find((c) => c.id === preferred) ?? offered.find((c) => c.id === task.defaultLoss) ?? offered[0];
  select.value = keep.id;
  select.onchange = () => { selectChoice(select.value); };
  const excluded = $('excluded');
  excluded.querySelector('summary')!.textContent =
      `${lists.offered.length} losses offered for ${task.title}; ${lists.excluded.length} registered losses not offered (why)`;
  excluded.querySelector('ul')!.replaceChildren(...lists.excluded.map(({name, reason}) => {
    const li = document.createElement('li');
    li.dataset.loss = name;
    const code = document.createElement('code');
    code.textContent = name;
    li.append(code, `: ${reason}`);
    return li;
  }));
  selectChoice(keep.id);
}

function selectChoice(id: string): void {
  choice = offered.find((c) => c.id === id)!;
  buildOptionFields();
  lossChanged();
}

type FieldKind = 'boolean'|'number'|'choice'|'json';

function fieldKind(value: unknown, description: string): FieldKind {
  if (typeof value === 'boolean') return 'boolean';
  if (/^one of '/.test(description)) return 'choice';
  if (typeof value === 'number' && /^(a number|an integer)( |$)/.test(description) && !/per class/.test(description)) return 'number';
  if (value === undefined && /^(a number|an integer)[^,]*$/.test(description)) return 'number';
  return 'json';
}

function prettyDescription(description: string): string {
  return description.replace(/>=/g, '≥').replace(/<=/g, '≤').replace(/ \(or undefined\)|, or undefined/, ' (optional)');
}

/** One field per option of each part (`describeLoss(name).schema`), with the schema's description as its hint. */
function buildOptionFields(): void {
  const box = $('options');
  // Removing a focused field blurs it, which fires its change event: detach the old fields first.
  for (const input of optionInputs()) input.onchange = null;
  box.replaceChildren();
  choice.parts.forEach((part, index) => {
    const {options: defaults, schema} = losses.describeLoss(part.name);
    let target: HTMLElement = box;
    if (choice.parts.length > 1) {
      const set = document.createElement('fieldset');
      const legend = document.createElement('legend');
      legend.textContent = `${part.weight === 1 ? '' : `${part.weight} × `}${part.name}`;
      set.append(legend);
      box.append(set);
      target = set;
    }
    const start = {...defaults, ...part.initial};
    for (const [key, spec] of Object.entries(schema)) {
      const value = start[key];
      const kind = fieldKind(defaults[key], spec.description);
      const label = document.createElement('label');
      const hint = document.createElement('span');
      hint.className = 'hint';
      const demoDefault = key in part.initial ? `demo default ${JSON.stringify(part.initial[key])}, the loss's ${JSON.stringify(defaults[key])}` : '';
      hint.textContent = [kind === 'boolean' ? '' : prettyDescription(spec.description), demoDefault].filter(Boolean).join(' · ');
      let input: HTMLInputElement|HTMLSelectElement;
      if (kind === 'choice') {
        input = document.createElement('select');
        for (const v of spec.description.match(/'[^']*'/g) ?? []) input.add(new Option(v.slice(1, -1)));
        input.value = String(value);
        label.append(key, input, hint);
      } else {
        const field = document.createElement('input');
        input = field;
        if (kind === 'boolean') {
          field.type = 'checkbox';
          field.checked = value as boolean;
          label.className = 'check';
          label.append(field, key, hint);
        } else {
          field.type = kind === 'number' ? 'number' : 'text';
          if (kind === 'number') field.step = 'any';
          field.value = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
          field.placeholder = value === undefined ? 'unset' : '';
          label.append(key, field, hint);
        }
      }
      input.title = `${part.name}: ${key} must be ${spec.description}`;
      input.id = choice.parts.length > 1 ? `option-${index}-${key}` : `option-${key}`;
      Object.assign(input.dataset, {part: String(index), option: key, kind});
      input.onchange = () => {
        if (key === 'fromLogits') syncFromLogits(input as HTMLInputElement);
        lossChanged();
      };
      target.append(label);
    }
  });
  syncFromLogits();
}

function optionInputs(): Array<HTMLInputElement|HTMLSelectElement> {
  return Array.from($('options').querySelectorAll<HTMLInputElement|HTMLSelectElement>('input, select'));
}

/**
 * The model has one output, so every part reads the same kind of prediction: the parts'
 * `fromLogits` move together, and a part that reads logits alone keeps them checked.
 */
function syncFromLogits(changed?: HTMLInputElement): void {
  const boxes = optionInputs().filter((i): i is HTMLInputElement => i.dataset.option === 'fromLogits');
  const scores = choice.parts.find((p) => READS_SCORES[p.name]);
  for (const box of boxes) {
    if (scores) {
      box.checked = true;
      box.disabled = true;
      box.title = `${scores.name} reads ${READS_SCORES[scores.name]}: the model outputs logits`;
    } else if (changed) {
      box.checked = changed.checked;
    }
  }
}

interface ReadOptions {
  /** Per part: the options that differ from the loss's defaults (what `get` is given). */
  given: Options[];
  /** Per part: every option's value. */
  values: Options[];
  /** Options the schema rejects: "loss: option 'x' must be …, got …". */
  problems: string[];
}

function readOptions(): ReadOptions {
  const given: Options[] = choice.parts.map(() => ({}));
  const values: Options[] = choice.parts.map((p) => ({...losses.describeLoss(p.name).options}));
  const problems: string[] = [];
  for (const input of optionInputs()) {
    const index = Number(input.dataset.part);
    const key = input.dataset.option!;
    const part = choice.parts[index];
    const {options: defaults, schema} = losses.describeLoss(part.name);
    let value: unknown;
    const text = input.value.trim();
    if (input.dataset.kind === 'boolean') value = (input as HTMLInputElement).checked;
    else if (input.dataset.kind === 'choice') value = input.value;
    else if (text === '') value = undefined;
    else if (input.dataset.kind === 'number') value = Number(text);
    else {
      try { value = JSON.parse(text); } catch { value = text; }
    }
    const problem = schema[key].problem(value);
    input.closest('label')!.classList.toggle('invalid', problem !== undefined);
    if (problem !== undefined) problems.push(`${part.name}: option '${key}' must be ${problem}, got ${JSON.stringify(value)}`);
    values[index][key] = value;
    if (JSON.stringify(value) !== JSON.stringify(defaults[key])) given[index][key] = value;
  }
  return {given, values, problems};
}

function formatOptions(options: Options): string {
  const entries = Object.entries(options);
  return entries.length ? `{${entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}` : '';
}

/** The chosen loss with the options it is given: `diceLoss {batch: true}`, `a {…} + b {…}`. */
function lossTag(given: Options[], c = choice): string {
  return c.parts.map((p, i) => {
    const options = formatOptions(given[i]);
    return `${p.weight === 1 ? '' : `${p.weight}·`}${p.name}${options ? ` ${options}` : ''}`;
  }).join(' + ');
}

function compileLoss(given: Options[], c = choice): losses.CompileLoss {
  if (c.parts.length === 1) return losses.get(c.parts[0].name, given[0]);
  const parts = c.parts.map((p, i) => [p.name, p.weight, given[i]]);
  return losses.combineLosses(parts as unknown as Parameters<typeof losses.combineLosses>[0]) as unknown as losses.CompileLoss;
}

/** How the choice reads its targets (a combination: its parts' common kind, as combineLosses decides). */
function labelKind(c = choice): losses.LabelKind {
  const kinds = new Set(c.parts.map((p) => losses.describeLoss(p.name).labels));
  if (kinds.size > 1) kinds.delete('indexOrOneHot');
  return kinds.size === 1 ? [...kinds][0] : 'other';
}

function headOf(values: Options[], c = choice): Head {
  if (c.parts.some((p) => READS_SCORES[p.name])) return 'logits';
  if (values.some((v) => v.fromLogits === true)) return 'logits';
  if (c.parts.some((p) => READS_LOG_PROBABILITIES.has(p.name))) return 'logSoftmax';
  return 'softmax';
}

const HEAD_TEXT: Record<Head, string> = {
  softmax: 'softmax probabilities',
  logits: 'logits (no output activation)',
  logSoftmax: 'log-probabilities (a log-softmax layer)',
};

function applyHead(head: Head, z: tf.Tensor): tf.Tensor {
  return head === 'softmax' ? tf.softmax(z) : head === 'logSoftmax' ? tf.logSoftmax(z) : z;
}

function isOverlapChoice(): boolean {
  return choice.parts.some((p) => losses.describeLoss(p.name).labels === 'indexOrOneHot');
}

// ---- the loss and its slope against the margin ----

/** −6 … 6 by 0.25: −5 and 5 are points of the sweep. */
const MARGINS = Array.from({length: 49}, (_, i) => -6 + i / 4);
const at = (m: number) => MARGINS.indexOf(m);

interface SweepBatch {
  /** Class index of each item (a digit, or a pixel of each mask). */
  labels: Int32Array;
  shape: number[];
  text: string;
}

interface Curve {
  loss: number[];
  slope: number[];
}

function sweepBatch(t = task): SweepBatch {
  if (t.id === 'mnist') {
    return {labels: Int32Array.from({length: 10}, (_, i) => i), shape: [10], text: 'ten rows, one per digit class'};
  }
  const set = heldOut();
  // The first held-out masks that together hold every class, four of them.
  const picked: number[] = [];
  const seen = new Set<number>([0]);
  const pixels = SIZE * SIZE;
  for (let n = 0; n < set.count && picked.length < 4; n++) {
    const classes = new Set(set.labels.subarray(n * pixels, (n + 1) * pixels));
    const adds = [...classes].some((c) => !seen.has(c));
    if (adds || (seen.size === SHAPE_CLASSES && classes.size > 1)) {
      picked.push(n);
      classes.forEach((c) => seen.add(c));
    }
  }
  const labels = new Int32Array(picked.length * pixels);
  picked.forEach((n, i) => labels.set(set.labels.subarray(n * pixels, (n + 1) * pixels), i * pixels));
  return {labels, shape: [picked.length, SIZE, SIZE], text: `${picked.length} held-out masks (held-out images ${picked.map((n) => n + 1).join(', ')}) holding every class`};
}

/**
 * The loss (its compile form, mean over the batch) at logits z = m·(onehot − ½) — the target
 * class's logit m/2, every other −m/2 — and its slope dL/dm, for each margin m of the sweep. Each
 * margin is its own call, so a loss that pools the batch (`batch: true`) pools this batch only.
 */
function sweep(loss: losses.CompileLoss, kind: losses.LabelKind, head: Head, batch: SweepBatch, t = task, margins = MARGINS): Curve {
  return tf.tidy(() => {
    const index = tf.tensor(batch.labels, batch.shape, 'int32');
    const oneHot = tf.oneHot(index, t.numClasses).toFloat();
    const yTrue = kind !== 'sparse' ? oneHot : t.id === 'mnist' ? index.toFloat() : index;
    const direction = tf.sub(oneHot, 0.5);
    const valueAndSlope = tf.valueAndGrad((m: tf.Tensor) => tf.mean(loss(yTrue, applyHead(head, tf.mul(direction, m)))));
    const values: tf.Tensor[] = [];
    const slopes: tf.Tensor[] = [];
    for (const m of margins) {
      const {value, grad} = valueAndSlope(tf.scalar(m));
      values.push(value);
      slopes.push(grad);
    }
    return {loss: Array.from(tf.stack(values).dataSync()), slope: Array.from(tf.stack(slopes).dataSync())};
  });
}

const REFERENCE = 'cross-entropy (reference)';

/** The target class's softmax probability at margin m. */
function pTarget(m: number): number {
  return 1 / (1 + (task.numClasses - 1) * Math.exp(-m));
}

/** Redraws both charts and the summary for the chosen loss and options. */
let comparisons = 0;

async function drawComparison(): Promise<void> {
  const call = ++comparisons;
  const error = $('chosen-error');
  error.textContent = '';
  const {given, values, problems} = readOptions();
  const tag = lossTag(given);
  const batch = sweepBatch();
  const head = headOf(values);
  const reference = sweep(losses.get('categoricalCrossentropy', {fromLogits: true}), 'categorical', 'logits', batch);
  let chosen: Curve|undefined;
  if (problems.length) {
    error.textContent = problems.join('\n');
  } else {
    try {
      chosen = sweep(compileLoss(given), labelKind(), head, batch);
    } catch (e) {
      error.textContent = `${tag} cannot be computed on this batch: ${(e as Error).message}`;
    }
  }
  if (call !== comparisons) return;  // a newer choice is being drawn
  writeSummary(tag, chosen, reference);
  $('sweep-info').textContent =
      `The batch: ${batch.text}, ${task.numClasses} classes. Its logits are set directly, z = m·(onehot − ½): the target ` +
      `class's logit m/2, every other class's −m/2, for margins m from −6 (confidently wrong) to 6 (confidently right). ` +
      `The chosen loss reads ${HEAD_TEXT[head]} of z; the reference is categoricalCrossentropy {fromLogits: true}. ` +
      `Each point is one call of the loss (its compile form, averaged over the batch); the slope is tf.grad's dL/dm.`;
  // The reference first, so the chosen loss is drawn over it.
  const series = (key: keyof Curve): Series[] => [
    {name: REFERENCE, points: reference[key].map((y, i) => ({x: MARGINS[i], y}))},
    ...(chosen ? [{name: tag, points: chosen[key].map((y, i) => ({x: MARGINS[i], y}))}] : []),
  ];
  const colors = ['#bbbbbb', '#4c78a8'];
  const subtitle = `${task.title} · ${tag} · ${tf.getBackend()}`;
  const xTitle = 'margin m = z_target − z_other';
  await drawLineChart($('loss-chart'), {title: 'Loss against the margin', subtitle, xTitle, yTitle: 'loss (mean over the batch)', series: series('loss'), colors, xDomain: [-6, 6]});
  await drawLineChart($('grad-chart'), {title: 'Slope against the margin', subtitle, xTitle, yTitle: 'slope dL/dm', series: series('slope'), colors, xDomain: [-6, 6]});
}

/** The summary: the chosen loss where the prediction is confidently wrong and right, against cross-entropy. */
function writeSummary(tag: string, chosen: Curve|undefined, reference: Curve): void {
  const summary = $('summary');
  for (const key of Object.keys(summary.dataset)) delete summary.dataset[key];
  const wrong = at(-5);
  const right = at(5);
  Object.assign(summary.dataset, {tag, ceSlopeWrong: String(reference.slope[wrong])});
  if (!chosen) {
    summary.textContent = `${tag}: not computed (see below).`;
    return;
  }
  Object.assign(summary.dataset, {
    lossWrong: String(chosen.loss[wrong]), slopeWrong: String(chosen.slope[wrong]),
    lossRight: String(chosen.loss[right]), slopeRight: String(chosen.slope[right]),
  });
  const first = chosen.loss[0];
  const last = chosen.loss[MARGINS.length - 1];
  const ratio = Math.abs(reference.slope[wrong] / chosen.slope[wrong]);
  let verdict: string;
  if (![...chosen.loss, ...chosen.slope].every(Number.isFinite)) {
    verdict = 'It is not finite on part of this sweep.';
  } else if (chosen.loss.every((v, i) => Math.abs(v - reference.loss[i]) <= 1e-4 * (1 + Math.abs(v))) &&
             chosen.slope.every((v, i) => Math.abs(v - reference.slope[i]) <= 1e-4 * (1 + Math.abs(v)))) {
    verdict = 'On this batch it is cross-entropy itself: the two curves coincide.';
  } else if (!(last < first)) {
    verdict = `It does not fall as the margin grows (${sig(first)} at −6, ${sig(last)} at +6): on this task it does not reward the target class.`;
  } else if (last > 0.5 * first) {
    verdict = `Even at margin +6 it keeps ${Math.round(100 * last / first)}% of its value at −6 (${sig(last)} of ${sig(first)}): ` +
        'most of it does not depend on the target class\'s margin' + (isOverlapChoice() && task.id === 'mnist' ? ' (the absent classes: see the note above).' : '.');
  } else if (ratio > 10) {
    verdict = `Where the prediction is most wrong its slope is ${Math.round(ratio)}× smaller than cross-entropy's: ` +
        'it learns slowly from confident mistakes (the gradient vanishes where it is needed most).';
  } else if (ratio < 0.1) {
    verdict = `Where the prediction is most wrong its slope is ${sig(1 / ratio)}× cross-entropy's: large steps on confident mistakes.`;
  } else {
    verdict = `Where the prediction is most wrong its slope is ${sig(1 / ratio)}× cross-entropy's: it keeps learning from confident mistakes.`;
  }
  summary.textContent =
      `${tag}: confidently wrong (margin −5, target probability ${sig(pTarget(-5))}) the loss is ${sig(chosen.loss[wrong])} ` +
      `and its slope dL/dm ${fmt(chosen.slope[wrong])}; confidently right (margin +5, target probability ${sig(pTarget(5))}) ` +
      `${sig(chosen.loss[right])} and ${fmt(chosen.slope[right])}. Cross-entropy's slope at −5 is ${fmt(reference.slope[wrong])}. ${verdict}`;
}

// ---- notes on the chosen loss ----

/** Mean loss of `loss` on ten digits (one per class) at the given per-row probabilities. */
function meanLossAt(loss: losses.CompileLoss, kind: losses.LabelKind, head: Head, probabilities: number[][]): number {
  return tf.tidy(() => {
    const labels = tf.tensor1d(Int32Array.from({length: 10}, (_, i) => i), 'int32');
    const yTrue = kind === 'sparse' ? labels.toFloat() : tf.oneHot(labels, 10).toFloat();
    const z = tf.log(tf.tensor2d(probabilities));  // softmax(log p) = p
    return tf.mean(loss(yTrue, applyHead(head, z))).dataSync()[0];
  });
}

function lossChanged(): void {
  const {given, values, problems} = readOptions();
  const head = headOf(values);
  const kind = labelKind();
  const targets = kind === 'sparse' ? (task.id === 'mnist' ? 'class indices [n]' : 'label maps [n, 32, 32]') :
                                      (task.id === 'mnist' ? 'one-hot rows [n, 10]' : 'one-hot masks [n, 32, 32, 4]');
  $('loss-info').textContent = `The model outputs ${HEAD_TEXT[head]}; the targets are ${targets}.` +
      (choice.parts.length > 1 ? ' The parts\' fromLogits move together: the model has one output.' : '');
  const note = $('loss-note');
  note.replaceChildren();
  note.dataset.kind = '';
  if (isOverlapChoice() && task.id === 'mnist' && !problems.length) {
    note.dataset.kind = 'per-sample-overlap';
    const pooled = values.some((v) => v.batch === true);
    const hasBatch = choice.parts.some((p) => 'batch' in losses.describeLoss(p.name).schema);
    let numbers = '';
    try {
      const loss = compileLoss(given);
      const certain = Array.from({length: 10}, () => Array.from({length: 10}, (_, k) => (k === 0 ? 1 - 9e-12 : 1e-12)));
      const cautious = Array.from({length: 10}, (_, r) => Array.from({length: 10}, (_, k) => (k === r ? 0.9 : 0.1 / 9)));
      const a = meanLossAt(loss, kind, head, certain);
      const b = meanLossAt(loss, kind, head, cautious);
      Object.assign(note.dataset, {oneClassLoss: String(a), rightClassLoss: String(b)});
      numbers = ` With these options, on ten digits one per class: a net that answers “0” with certainty for every digit ` +
          `(accuracy 0.1) scores ${fmt(a, 3)}; one that gives the right digit 0.9 (accuracy 1) scores ${fmt(b, 3)} — ` +
          (a < b ? 'the loss prefers the wrong, certain answer. Trained this way, accuracy climbs, then collapses to one class (0.1) while the loss keeps falling.' :
                   'the loss prefers the right answer.');
    } catch { /* the sweep shows the error */ }
    note.innerHTML =
        '<b>Overlap losses on classification.</b> Dice, Jaccard, Tversky and Lovász score each class as a set of pixels, ' +
        'per sample. On MNIST a sample is one digit: a single “pixel” with 10 classes, 9 of them absent. Per sample ' +
        '(<code>batch: false</code>, the loss\'s default) an absent class scores 1 − smooth / (Σp + smooth): close to 1 ' +
        'as soon as its probability exceeds smooth (1e-5), 0 only when it is certain the class is absent — so 9 of the 10 ' +
        'terms reward certainty, not the right digit. ' +
        (hasBatch ? '<code>batch: true</code> pools each class over the batch (64 digits hold every class), so each class ' +
                    'is scored as a set of digits, like the pixels of an image; the demo sets it on this task. ' :
                    'This loss has no <code>batch</code> option. ') +
        (hasBatch ? (pooled ? 'It is on.' : '<b>It is off.</b>') : '');
    note.append(numbers);
  } else if (isOverlapChoice() && task.id === 'shapes' && values.some((v, i) => 'batch' in losses.describeLoss(choice.parts[i].name).schema && v.batch !== true)) {
    note.dataset.kind = 'per-image-overlap';
    note.innerHTML = 'Per image (<code>batch: false</code>), a shape class absent from an image is its own all-or-nothing ' +
        'term. In examples/segmentation, focal Tversky per image settles on predicting background everywhere; ' +
        '<code>batch: true</code> pools the classes over the batch.';
  }
  void drawComparison();
}

// ---- backends ----

async function backendTag(active: string): Promise<string> {
  if (active !== 'wasm') return active;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const threads = getThreadsCount();
  return `wasm (${threaded && simd ? 'threaded SIMD' : simd ? 'SIMD' : 'plain'}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

async function useBackend(name: string): Promise<string> {
  let ok = false;
  try { ok = await tf.setBackend(name); } catch { ok = false; }
  await tf.ready();
  const active = tf.getBackend();
  if (active === 'wasm') {
    restoreConcurrency?.();
    restoreConcurrency = undefined;
  }
  const tag = await backendTag(active);
  $('backend-active').textContent = ok ? tag : `${tag} (${name} is not available here)`;
  Object.assign($('backend-active').dataset, {backend: active, tag});
  return tag;
}

function showIsolation(): void {
  const isolated = self.crossOriginIsolated === true;
  const el = $('isolation');
  el.dataset.isolated = String(isolated);
  el.textContent = isolated ? 'cross-origin isolated (COOP/COEP): wasm can run threaded' :
                              'not cross-origin isolated: wasm runs single-threaded';
}

// ---- data ----

interface Mnist {
  imageShape: number[];
  numClasses: number;
  trainCount: number;
  testCount: number;
  trainLabels: number[];
  testLabels: number[];
  images: Float32Array;  // train, then test
}

let mnist: Promise<Mnist>|undefined;

function loadMnist(): Promise<Mnist> {
  mnist ??= Promise.all([fetch('/mnist.json').then((r) => r.json()), fetch('/mnist.bin').then((r) => r.arrayBuffer())])
                .then(([meta, bin]) => ({...meta, images: new Float32Array(bin)} as Mnist));
  return mnist;
}

const shapeSets = new Map<string, SegmentationSet>();

function shapes(count: number, seed: number): SegmentationSet {
  const key = `${count}/${seed}`;
  if (!shapeSets.has(key)) shapeSets.set(key, generateShapes(count, seed));
  return shapeSets.get(key)!;
}

function heldOut(): SegmentationSet {
  return shapes(SHAPES_HELD_OUT, SHAPES_DATA_SEED + 1);
}

async function showDataInfo(): Promise<void> {
  const info = $('data-info');
  if (task.id === 'shapes') {
    info.textContent = `shapes: up to ${task.maxCount} generated training images (seed ${SHAPES_DATA_SEED}) and ${SHAPES_HELD_OUT} held-out`;
    return;
  }
  info.textContent = 'loading MNIST…';
  const data = await loadMnist();
  if (task.id === 'mnist') info.textContent = `MNIST: ${data.trainCount} training and ${data.testCount} test digits`;
}

// ---- models ----

/** log-softmax over the last axis (tfjs-layers has no such activation). */
class LogSoftmax extends tf.layers.Layer {
  static className = 'DemoLogSoftmax';
  override call(inputs: tf.Tensor|tf.Tensor[]): tf.Tensor {
    return tf.logSoftmax(Array.isArray(inputs) ? inputs[0] : inputs);
  }
}

function addHead(model: tf.Sequential, head: Head): tf.Sequential {
  if (head === 'softmax') model.add(tf.layers.activation({activation: 'softmax'}));
  if (head === 'logSoftmax') model.add(new LogSoftmax({}));
  return model;
}

function buildModel(head: Head): tf.Sequential {
  if (task.id === 'shapes') return addHead(buildSegmentationModel(1), head);
  const model = tf.sequential();
  model.add(tf.layers.dense({inputShape: [784], units: 128, activation: 'relu'}));
  model.add(tf.layers.dense({units: 10}));
  return addHead(model, head);
}

const TRAIN_INFO: Record<TaskId, string> = {
  mnist: 'A dense net 784 → 128 (relu) → 10 with the output the loss reads (above), Adam. The batch accuracy is ' +
      'tfjs-layers\' \'accuracy\' for the loss\'s label kind (element-wise for binary losses); the test accuracy is the ' +
      'argmax over the 2,000 test digits, before training (epoch 0) and after each epoch.',
  shapes: 'examples/segmentation\'s data and net: 32×32 noisy images with 0–3 circles, squares and triangles (4 classes ' +
      'with background), an encoder–decoder (conv 16 → pool → conv 32 → upsample → conv 16 → 1×1 conv to 4 logits, seeded ' +
      'weights), Adam. The held-out mean IoU is per class over the 150 held-out images (argmax), averaged over the classes ' +
      'present; predicting background everywhere scores about 0.19. The picture: held-out input, true mask, prediction ' +
      '(grey background, red circle, green square, blue triangle).',
};

// ---- training ----

interface Evaluation {
  value: number;
  detail: string;
}

function evaluateMnist(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor): Evaluation {
  const value = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).equal(labels).mean().dataSync()[0]);
  return {value, detail: ''};
}

function predictMasks(model: tf.LayersModel, set: SegmentationSet, count = set.count): Int32Array {
  const pixels = SIZE * SIZE;
  const out = new Int32Array(count * pixels);
  for (let start = 0; start < count; start += 50) {
    const n = Math.min(50, count - start);
    out.set(tf.tidy(() => (model.predict(tf.tensor4d(set.images.subarray(start * pixels, (start + n) * pixels), [n, SIZE, SIZE, 1])) as tf.Tensor)
                              .argMax(-1).dataSync() as Int32Array), start * pixels);
  }
  return out;
}

function evaluateShapes(model: tf.LayersModel): Evaluation {
  const set = heldOut();
  const predicted = predictMasks(model, set);
  const result = iou(predicted, set.labels, SHAPE_CLASSES);
  const detail = result.perClass.map((v, c) => `${SHAPE_NAMES[c]} ${v === null ? '–' : v.toFixed(2)}`).join(', ');
  drawPicture(set, predicted);
  return {value: result.mean, detail: `IoU ${detail}`};
}

/** Four held-out examples: input, true mask, prediction (rows), 3× nearest neighbour. */
function drawPicture(set: SegmentationSet, predicted: Int32Array): void {
  const box = $('picture-box');
  const scale = 3;
  const shown = 6;
  const cell = SIZE * scale + 6;
  let canvas = box.querySelector('canvas');
  if (!canvas) {
    canvas = document.createElement('canvas');
    const caption = document.createElement('p');
    caption.className = 'note';
    caption.id = 'picture-caption';
    box.append(canvas, caption);
  }
  canvas.width = shown * cell;
  canvas.height = 3 * cell;
  const context = canvas.getContext('2d')!;
  context.fillStyle = 'white';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const pixels = SIZE * SIZE;
  for (let n = 0; n < shown; n++) {
    for (let row = 0; row < 3; row++) {
      const image = context.createImageData(SIZE * scale, SIZE * scale);
      for (let p = 0; p < pixels; p++) {
        let rgb: [number, number, number];
        if (row === 0) {
          const v = Math.round(Math.min(1, Math.max(0, set.images[n * pixels + p])) * 255);
          rgb = [v, v, v];
        } else {
          rgb = SHAPE_COLOURS[(row === 1 ? set.labels : predicted)[n * pixels + p]];
        }
        const x = p % SIZE;
        const y = Math.floor(p / SIZE);
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const o = 4 * ((y * scale + dy) * SIZE * scale + x * scale + dx);
            image.data.set([...rgb, 255], o);
          }
        }
      }
      context.putImageData(image, n * cell + 3, row * cell + 3);
    }
  }
  box.querySelector('#picture-caption')!.textContent =
      `${lastRunTag}: held-out images 1–${shown}; rows: input, true mask, prediction (grey background, red circle, green square, blue triangle).`;
}

let runCount = 0;
let lastRunTag = '';

async function train(): Promise<void> {
  const button = $<HTMLButtonElement>('train-button');
  const status = $('status');
  const metric = $('metric');
  const {given, values, problems} = readOptions();
  if (problems.length) {
    status.className = 'error';
    status.textContent = `error: ${problems.join('; ')}`;
    status.dataset.state = 'error';
    return;
  }
  button.disabled = true;
  status.className = '';
  status.dataset.state = 'training';
  metric.textContent = `${task.metricLabel}: –`;
  delete metric.dataset.value;
  const owned: tf.Tensor[] = [];
  let model: tf.LayersModel|undefined;
  let optimizer: tf.Optimizer|undefined;
  const runTask = task;
  const runId = ++runCount;
  try {
    const backend = await useBackend($<HTMLSelectElement>('backend').value);
    const tag = lossTag(given);
    const epochs = Math.max(1, Math.round(Number($<HTMLInputElement>('epochs').value)));
    const batchSize = Math.max(1, Math.round(Number($<HTMLInputElement>('batch-size').value)));
    const learningRate = Number($<HTMLInputElement>('learning-rate').value);
    const n = Math.min(runTask.maxCount, Math.max(16, Math.round(Number($<HTMLInputElement>('train-count').value))));
    const kind = labelKind();
    const head = headOf(values);
    const runTag = `${runTask.title} · ${tag || choice.id} · ${backend}`;
    lastRunTag = runTag;
    let x: tf.Tensor;
    let y: tf.Tensor;
    let evaluate: () => Evaluation;
    if (runTask.id === 'mnist') {
      const data = await loadMnist();
      const pixels = 784;
      const count = Math.min(n, data.trainCount);
      x = tf.tensor2d(data.images.subarray(0, count * pixels), [count, pixels]);
      const labels = data.trainLabels.slice(0, count);
      y = kind === 'sparse' ? tf.tensor1d(Float32Array.from(labels)) : tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10).toFloat();
      const testStart = data.trainCount * pixels;
      const xTest = tf.tensor2d(data.images.subarray(testStart, testStart + data.testCount * pixels), [data.testCount, pixels]);
      const yTest = tf.tensor1d(Float32Array.from(data.testLabels));
      owned.push(xTest, yTest);
      evaluate = () => evaluateMnist(model!, xTest, yTest);
    } else {
      const set = shapes(n, SHAPES_DATA_SEED);
      x = tf.tensor4d(set.images, [n, SIZE, SIZE, 1]);
      y = kind === 'sparse' ? tf.tensor3d(set.labels, [n, SIZE, SIZE], 'int32') : tf.tensor4d(set.oneHot, [n, SIZE, SIZE, SHAPE_CLASSES]);
      evaluate = () => evaluateShapes(model!);
    }
    owned.push(x, y);
    const count = x.shape[0];
    const stepsPerEpoch = Math.ceil(count / batchSize);

    model = buildModel(head);
    optimizer = tf.train.adam(learningRate);
    model.compile({optimizer, loss: compileLoss(given), ...(runTask.id === 'mnist' ? {metrics: ['accuracy']} : {})});

    const stepLoss: Array<{x: number; y: number}> = [];
    const stepAccuracy: Array<{x: number; y: number}> = [];
    const perEpoch: Array<{x: number; y: number}> = [];
    const subtitle = runTag;
    const stepTitle = `step (batch of ${batchSize}; ${stepsPerEpoch} per epoch)`;
    const drawSteps = () => drawLineChart($('fit-chart'), {
      title: runTask.id === 'mnist' ? 'Training loss and batch accuracy per step' : 'Training loss per step', subtitle,
      xTitle: stepTitle, yTitle: runTask.id === 'mnist' ? 'loss; batch accuracy' : 'loss', integerX: true,
      series: [{name: 'training loss', points: stepLoss}, ...(runTask.id === 'mnist' ? [{name: 'batch accuracy', points: stepAccuracy}] : [])],
      colors: ['#4c78a8', '#f58518'],
    });
    const drawEpochs = () => drawLineChart($('test-chart'), {
      title: `${runTask.metricLabel[0].toUpperCase()}${runTask.metricLabel.slice(1)} per epoch`, subtitle,
      xTitle: 'epoch (0: before training)', yTitle: runTask.metricLabel, integerX: true, dots: true,
      xDomain: [0, epochs], yDomain: [0, 1], series: [{name: runTask.metricLabel, points: perEpoch}], colors: ['#54a24b'],
    });
    const showMetric = (e: Evaluation, epoch: number) => {
      metric.dataset.value = String(e.value);
      metric.textContent = `${runTask.metricLabel} ${e.value.toFixed(4)}`;
      status.textContent = `after epoch ${epoch}/${epochs} — ${runTag}${e.detail ? ` (${e.detail})` : ''}`;
    };
    $('picture-box').replaceChildren();
    const initial = evaluate();
    perEpoch.push({x: 0, y: initial.value});
    showMetric(initial, 0);
    await drawSteps();
    await drawEpochs();

    let epochNow = 0;
    let stepStarted = 0;
    let stepMs = 0;
    let steps = 0;
    let lastDraw = performance.now();
    const started = performance.now();
    await model.fit(x, y, {
      epochs, batchSize, shuffle: true, verbose: 0,
      callbacks: {
        onEpochBegin: async (epoch) => { epochNow = epoch; },
        onBatchBegin: async () => { stepStarted = performance.now(); },
        onBatchEnd: async (batch, logs) => {
          stepMs += performance.now() - stepStarted;
          steps++;
          stepLoss.push({x: steps, y: Number(logs?.loss)});
          if (logs?.acc !== undefined) stepAccuracy.push({x: steps, y: Number(logs.acc)});
          status.textContent = `training: epoch ${epochNow + 1}/${epochs}, step ${batch + 1}/${stepsPerEpoch} — ${runTag}`;
          if (performance.now() - lastDraw > 1000) {
            await drawSteps();
            lastDraw = performance.now();
          }
        },
        onEpochEnd: async (epoch) => {
          const e = evaluate();
          perEpoch.push({x: epoch + 1, y: e.value});
          showMetric(e, epoch + 1);
          await drawSteps();
          await drawEpochs();
          lastDraw = performance.now();
        },
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const final = perEpoch[perEpoch.length - 1].y;
    const firstLoss = stepLoss[0]?.y ?? NaN;
    const finalLoss = stepLoss[stepLoss.length - 1]?.y ?? NaN;
    const timing = `${fmt(seconds, 1)} s, ${fmt(stepMs / steps, 1)} ms/step`;
    status.textContent = `done — ${runTag} · ${epochs} epoch${epochs === 1 ? '' : 's'} of ${count} ${runTask.countLabel.split(' ')[1]} in ${timing}`;
    status.dataset.state = 'done';
    addResult({
      runId, task: runTask, tag, given, backend, epochs, count, batchSize, learningRate, metric: final, firstLoss, finalLoss,
      seconds, msPerStep: stepMs / steps, detail: status.textContent,
    });
  } catch (e) {
    status.className = 'error';
    status.textContent = `error: ${(e as Error).message}`;
    status.dataset.state = 'error';
  } finally {
    model?.dispose();
    optimizer?.dispose();
    tf.dispose(owned);
    button.disabled = false;
  }
}

interface ResultLine {
  runId: number;
  task: Task;
  tag: string;
  given: Options[];
  backend: string;
  epochs: number;
  count: number;
  batchSize: number;
  learningRate: number;
  metric: number;
  firstLoss: number;
  finalLoss: number;
  seconds: number;
  msPerStep: number;
  detail: string;
}

function addResult(r: ResultLine): void {
  const list = $('results');
  list.querySelectorAll('li.latest').forEach((li) => li.classList.remove('latest'));
  const li = document.createElement('li');
  li.className = 'latest result';
  Object.assign(li.dataset, {
    run: String(r.runId), task: r.task.id, loss: choice.id, options: JSON.stringify(r.given), tag: r.tag, backend: r.backend,
    metric: String(r.metric), firstLoss: String(r.firstLoss), finalLoss: String(r.finalLoss), seconds: String(r.seconds), msPerStep: String(r.msPerStep),
  });
  li.textContent = `${r.task.title} · ${r.tag} · ${r.backend} · ${r.epochs} epoch${r.epochs === 1 ? '' : 's'} × ${r.count} ` +
      `${r.task.countLabel.split(' ')[1]}, batch ${r.batchSize}, Adam ${r.learningRate} → ${r.task.metricLabel} ${fmt(r.metric)}, ` +
      `last training loss ${sig(r.finalLoss)} · ${fmt(r.seconds, 1)} s (${fmt(r.msPerStep, 1)} ms/step)`;
  list.prepend(li);
}

// ---- the task ----

function setTask(id: TaskId, preferredLoss?: string): void {
  task = TASKS[id];
  document.querySelectorAll<HTMLInputElement>('input[name=task]').forEach((r) => { r.checked = r.value === id; });
  document.body.dataset.task = id;
  $('task-info').textContent = id === 'mnist' ?
      'Ten-class digit classification: each sample is one 28×28 digit, one class per sample.' :
      'Semantic segmentation of examples/segmentation\'s generated shapes: each pixel of a 32×32 image is background, circle, square or triangle.';
  $('train-title').textContent = `Train on ${id === 'mnist' ? 'MNIST' : 'the shapes'}`;
  $('train-count-label').textContent = task.countLabel;
  const count = $<HTMLInputElement>('train-count');
  count.max = String(task.maxCount);
  count.value = String(task.defaults.count);
  $<HTMLInputElement>('epochs').value = String(task.defaults.epochs);
  $<HTMLInputElement>('batch-size').value = String(task.defaults.batchSize);
  $<HTMLInputElement>('learning-rate').value = String(task.defaults.learningRate);
  $('train-info').textContent = TRAIN_INFO[id];
  void showDataInfo();
  fillLossPicker(preferredLoss);
}

/** The wasm build and thread count: a URL parameter, since tfjs-backend-wasm starts once per page. */
function fillWasmThreads(): void {
  const select = $<HTMLSelectElement>('wasm-threads');
  const isolated = self.crossOriginIsolated === true;
  select.add(new Option(isolated ? 'tfjs default (threaded build, cores / 2)' : 'tfjs default (no threads: not isolated)', ''));
  select.add(new Option('off (SIMD build, no threads)', 'off'));
  if (isolated) {
    for (let n = 1; n <= Math.max(2, CORES); n++) select.add(new Option(`${n} (threaded build)`, String(n)));
  }
  select.value = params.get('wasmThreads') ?? '';
  select.onchange = () => {
    const next = new URLSearchParams(location.search);
    if (select.value) next.set('wasmThreads', select.value); else next.delete('wasmThreads');
    next.set('backend', 'wasm');
    next.set('task', task.id);
    location.search = next.toString();
  };
}

async function main(): Promise<void> {
  showIsolation();
  fillWasmThreads();
  const probing = performance.now();
  await probeCandidates();
  document.body.dataset.probeMs = String(Math.round(performance.now() - probing));
  const backend = params.get('backend');
  if (backend) $<HTMLSelectElement>('backend').value = backend;
  await useBackend($<HTMLSelectElement>('backend').value);
  document.querySelectorAll<HTMLInputElement>('input[name=task]').forEach((radio) => {
    radio.onchange = () => { if (radio.checked) setTask(radio.value as TaskId); };
  });
  setTask(task.id, params.get('loss') ?? undefined);
  $('backend').onchange = async () => { await useBackend($<HTMLSelectElement>('backend').value); void drawComparison(); };
  $('train-button').onclick = () => { $('status').dataset.state = 'training'; void train(); };
  document.body.dataset.ready = 'true';
}

/** A choice with the demo's starting options on the task's sweep batch, at the given margins. */
function probe(id: TaskId, c: Choice, margins = [-5, 5]): Curve {
  const given = c.parts.map((p) => ({...p.initial}));
  const values = c.parts.map((p) => ({...losses.describeLoss(p.name).options, ...p.initial}));
  const t = TASKS[id];
  return sweep(compileLoss(given, c), labelKind(c), headOf(values, c), sweepBatch(t), t, margins);
}

/**
 * Probes every candidate of both tasks on the cpu backend (the caller switches to the backend it
 * wants next); a loss that throws or is not finite is not offered.
 */
async function probeCandidates(): Promise<void> {
  await tf.setBackend('cpu');
  for (const id of Object.keys(TASKS) as TaskId[]) {
    for (const c of candidates(id).offered) {
      try {
        const {loss, slope} = probe(id, c, [-5]);
        if (![...loss, ...slope].every(Number.isFinite)) probeFailures[id].set(c.id, `not finite on these targets (loss ${loss}, slope ${slope})`);
      } catch (e) {
        probeFailures[id].set(c.id, `fails on these targets: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * For the tests: the offered and excluded losses per task, and each offered loss (with the demo's
 * starting options) on the task's sweep batch at margins −5 and 5 on the current backend.
 */
(window as unknown as {demo: object}).demo = {
  offered: (id: TaskId) => lossesFor(id).offered.map((c) => c.id),
  excluded: (id: TaskId) => lossesFor(id).excluded,
  probe: (id: TaskId, lossId: string) => {
    const c = lossesFor(id).offered.find((o) => o.id === lossId);
    if (!c) throw new Error(`${lossId} is not offered for ${id}`);
    return probe(id, c);
  },
};

main().catch((e) => {
  $('status').className = 'error';
  $('status').textContent = `error: ${(e as Error).message}`;
});
