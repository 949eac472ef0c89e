// What the browser page (test/browser/page/entry.ts) and the Node side (test/browser/harness.ts)
// exchange: plain JSON, so it crosses playwright's page.evaluate.

export type GpuBackend = 'webgl'|'webgpu';

/** |actual − expected| ≤ atol + rtol·|expected| elementwise. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** What the page found when it switched to a backend. */
export interface BackendInfo {
  requested: GpuBackend;
  /** `tf.getBackend()` after `tf.setBackend(requested)`. */
  active: string;
  /** WebGL: `WEBGL_VERSION`, `WEBGL_RENDER_FLOAT32_ENABLED`, `WEBGL_FORCE_F16_TEXTURES`. */
  webglVersion?: number;
  float32Textures?: boolean;
  forceF16Textures?: boolean;
  /** The GPU the page runs on: WebGL's unmasked renderer, or the WebGPU adapter's info. */
  device: string;
  /** Whether `navigator.gpu` exists and what `requestAdapter()` returned (WebGPU only). */
  navigatorGpu?: boolean;
  adapter?: string|null;
  userAgent: string;
}

/** One golden case on one backend. */
export interface CaseResult {
  file: string;
  id: string;
  loss: string;
  pass: boolean;
  /** The worst error over every value compared, as max |a − e| / (1 + |e|) (0 when none). */
  worst: number;
  /** Where `worst` was: 'd mean / d yPred[3]: expected …, actual …'. */
  worstAt: string;
  /** Every failed check (empty when the case passes). */
  problems: string[];
  ms: number;
}

/** Backend reads during one optimizer step of a loss, with value checks off and on. */
export interface ReadCount {
  file: string;
  loss: string;
  caseId: string;
  checksOff: number;
  checksOn: number;
  /** Of checksOn, the synchronous reads (readSync). */
  checksOnSync: number;
  /** The last axis of the differentiated input (the classes, for the segmentation losses). */
  classes?: number;
  error?: string;
}

/** A tf.layers model trained for a few steps with one loss. */
export interface TrainingResult {
  name: string;
  losses: number[];
  /** numTensors before the model was built, and after the model and data were disposed. */
  tensorsAtStart: number;
  tensorsAtEnd: number;
  /** numTensors after the first step, and after the last one (no tensor kept per step). */
  tensorsAfterFirstStep: number;
  tensorsAfterLastStep: number;
  error?: string;
}

/** One check of the fused kernels (src/backends/fused/webgl-*.ts, webgpu-*.ts) against the composite path. */
export interface FusedCaseResult {
  id: string;
  /** The worst |fused − composite| / (1 + |composite|) over every value compared. */
  worst: number;
  worstAt: string;
  /** Every failed expectation (empty when the case passes). */
  problems: string[];
}

/** The functions the page exposes as `window.lossHarness`. */
export interface PageHarness {
  init(backend: GpuBackend): Promise<BackendInfo>;
  runFixtures(file: string, tolerance: Tolerance): Promise<CaseResult[]>;
  countReads(files: string[]): Promise<ReadCount[]>;
  train(): Promise<TrainingResult[]>;
  fusedSparseCrossEntropy(tolerance: Tolerance): Promise<FusedCaseResult[]>;
  fusedResidualLosses(tolerance: Tolerance): Promise<FusedCaseResult[]>;
  fusedSigmoidCrossEntropy(tolerance: Tolerance): Promise<FusedCaseResult[]>;
  fusedDenseSoftmax(tolerance: Tolerance): Promise<FusedCaseResult[]>;
  fusedOverlapLosses(tolerance: Tolerance): Promise<FusedCaseResult[]>;
}

/** The page's checks of one family of fused GPU kernels (test/browser/page/fused-*.ts). */
export type FusedFamily =
    'fusedSparseCrossEntropy'|'fusedResidualLosses'|'fusedSigmoidCrossEntropy'|'fusedDenseSoftmax'|'fusedOverlapLosses';
