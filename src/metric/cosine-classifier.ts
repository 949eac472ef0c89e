import * as tf from '@tensorflow/tfjs';

const NAME = 'cosineClassifier';
const CLASS_NAME = 'CosineClassifier';
/**
 * torch's `F.normalize` eps on the norm (rows are divided by max(‖x‖, 1e-12)), applied as
 * x·rsqrt(max(‖x‖², 1e-24)): the same values, and a gradient that autograd can take at a zero row
 * (sqrt's gradient at 0 would be 0·∞ = NaN). 1e-24 is a normal float32 number.
 */
const SQUARED_NORM_EPSILON = 1e-24;

/** A tfjs initializer (the class is not exported by tfjs-layers' public API). */
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;
/** What tfjs layers accept as an initializer: a name, a `{className, config}` dict, or an instance. */
export type InitializerIdentifier = string|Initializer|tf.serialization.ConfigDict;
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface CosineClassifierArgs extends LayerArgs {
  /** Number of classes C: the output is `[B, C]`. */
  units: number;
  /** Sub-centres K per class (Sub-center ArcFace); the output is the max over a class's K cosines. Default 1. */
  subCenters?: number;
  /**
   * Initializer of the class weights `[D, C·K]`: a name (`'glorotUniform'`, `'glorot_uniform'`,
   * `'heNormal'`, …), a `{className, config}` dict, or an instance (`tf.initializers.glorotUniform({seed})`).
   * Default `'glorotUniform'` (arcface-pytorch's `nn.init.xavier_uniform_`, Keras Dense's default).
   */
  kernelInitializer?: InitializerIdentifier;
}

/** tfjs-layers' names for its initializers (`getInitializer`'s map); snake_case is camel-cased first. */
const INITIALIZER_CLASS_NAMES: Record<string, string> = {
  constant: 'Constant', glorotNormal: 'GlorotNormal', glorotUniform: 'GlorotUniform', heNormal: 'HeNormal',
  heUniform: 'HeUniform', identity: 'Identity', leCunNormal: 'LeCunNormal', leCunUniform: 'LeCunUniform',
  ones: 'Ones', orthogonal: 'Orthogonal', randomNormal: 'RandomNormal', randomUniform: 'RandomUniform',
  truncatedNormal: 'TruncatedNormal', varianceScaling: 'VarianceScaling', zeros: 'Zeros',
};
/** The helper classes tfjs builds directly from a name (they serialise as 'VarianceScaling'). */
const VARIANCE_SCALING_HELPERS: Record<string, () => Initializer> = {
  GlorotNormal: () => tf.initializers.glorotNormal({}),
  GlorotUniform: () => tf.initializers.glorotUniform({}),
  HeNormal: () => tf.initializers.heNormal({}),
  HeUniform: () => tf.initializers.heUniform({}),
  LeCunNormal: () => tf.initializers.leCunNormal({}),
  LeCunUniform: () => tf.initializers.leCunUniform({}),
};

function isInitializer(x: unknown): x is Initializer {
  return x != null && typeof x === 'object' && typeof (x as Initializer).apply === 'function' &&
      typeof (x as Initializer).getClassName === 'function';
}

function fromClassName(layer: string, className: string, config: tf.serialization.ConfigDict): Initializer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry == null) {
    throw new Error(`${NAME} '${layer}': unknown kernelInitializer '${className}' (not a tfjs initializer, ` +
                    'nor a class registered with tf.serialization.registerClass)');
  }
  const [cls, fromConfig] = entry;
  const made = fromConfig(cls, config);
  if (!isInitializer(made)) throw new Error(`${NAME} '${layer}': kernelInitializer '${className}' is not an initializer`);
  return made;
}

/**
 * Resolves an initializer the way tfjs layers do (tfjs-layers' `getInitializer`, which is not
 * exported): a name, a `{className, config}` dict (as a saved model holds it), or an instance.
 */
function resolveInitializer(layer: string, identifier: InitializerIdentifier): Initializer {
  if (isInitializer(identifier)) return identifier;
  if (typeof identifier === 'string') {
    const camel = identifier.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
    const className = INITIALIZER_CLASS_NAMES[camel] ?? identifier;
    const helper = VARIANCE_SCALING_HELPERS[className];
    return helper ? helper() : fromClassName(layer, className, {});
  }
  if (identifier != null && typeof identifier === 'object' && typeof identifier.className === 'string') {
    return fromClassName(layer, identifier.className, (identifier.config ?? {}) as tf.serialization.ConfigDict);
  }
  throw new Error(`${NAME} '${layer}': kernelInitializer must be a name, a {className, config} dict or an ` +
                  `initializer, got ${JSON.stringify(identifier)}`);
}

function describeShape(shape: ReadonlyArray<number|null>): string {
  return `[${shape.map((d) => (d == null ? 'null' : d)).join(',')}]`;
}

/**
 * A cosine classifier head: trainable class weights W `[D, C·K]` (C = `units`, K = `subCenters`),
 * and for input x `[B, D]` the output
 *
 *   cos[b, c] = max_k  x̂_b · ŵ_{c·K+k},   x̂ = x / max(‖x‖, 1e-12),  ŵ_j = w_j / max(‖w_j‖, 1e-12)
 *
 * (the columns of W normalised; K = 1 is plain ArcFace's `F.linear(F.normalize(x),
 * F.normalize(W))`). Columns are class-major, j = c·K + k: pytorch-metric-learning's
 * `SubCenterArcFaceLoss` (`W` `[D, C·K]`, `view(-1, C, K)`, max over the last axis) and the
 * `ArcMarginProduct_subcenter` of Sub-center ArcFace (Deng et al. 2020) implementations.
 *
 * A zero input row (or weight column) gives cosines 0 and a finite gradient (the clamped norm is a
 * constant there, as in torch: the gradient is the one for x̂, times 1e12). Outputs may exceed ±1 by
 * float32 rounding (~1e-7); the margin losses that read them clamp. The gradient is tfjs autograd's
 * through these ops; for K > 1 it goes to the maximal sub-centre only (the first on a tie, as torch).
 *
 * Registered with `tf.serialization.registerClass` as 'CosineClassifier': a model holding it
 * saves and loads (`tf.loadLayersModel`) in a process that imports tfjs-losses.
 */
export class CosineClassifier extends tf.layers.Layer {
  static readonly className = CLASS_NAME;
  readonly units: number;
  readonly subCenters: number;
  readonly kernelInitializer: Initializer;
  private kernel: tf.LayerVariable|null = null;

  constructor(args: CosineClassifierArgs) {
    if (args == null || typeof args !== 'object') {
      throw new Error(`${NAME}: expects an options object {units, subCenters?, kernelInitializer?, name?}, got ${args}`);
    }
    super(args);
    const {units, subCenters = 1} = args;
    for (const [arg, value] of [['units', units], ['subCenters', subCenters]] as const) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new Error(`${NAME} '${this.name}': '${arg}' must be a positive integer, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
      }
    }
    this.units = units;
    this.subCenters = subCenters;
    this.kernelInitializer = resolveInitializer(this.name, args.kernelInitializer ?? 'glorotUniform');
  }

  private checkInputShape(shape: ReadonlyArray<number|null>): void {
    if (shape.length !== 2) {
      throw new Error(`${NAME} '${this.name}': input must have shape [B, D] (rank 2), got ${describeShape(shape)}`);
    }
    const kernelShape = this.kernel?.shape;
    if (kernelShape != null && shape[1] != null && shape[1] !== kernelShape[0]) {
      throw new Error(`${NAME} '${this.name}': input has D = ${shape[1]} features (shape ${describeShape(shape)}), ` +
                      `but the layer was built for D = ${kernelShape[0]} (kernel ${describeShape(kernelShape)})`);
    }
  }

  private static singleShape(name: string, inputShape: tf.Shape|tf.Shape[]): tf.Shape {
    if (Array.isArray(inputShape[0])) {
      const shapes = inputShape as tf.Shape[];
      if (shapes.length !== 1) throw new Error(`${NAME} '${name}': expects one input, got ${shapes.length}`);
      return shapes[0];
    }
    return inputShape as tf.Shape;
  }

  override build(inputShape: tf.Shape|tf.Shape[]): void {
    const shape = CosineClassifier.singleShape(this.name, inputShape);
    this.checkInputShape(shape);
    const features = shape[1];
    if (features == null || features < 1) {
      throw new Error(`${NAME} '${this.name}': the feature dimension D of the input must be known and positive, ` +
                      `got shape ${describeShape(shape)}`);
    }
    this.kernel = this.addWeight(
        'kernel', [features, this.units * this.subCenters], 'float32', this.kernelInitializer, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape|tf.Shape[]): tf.Shape {
    const shape = CosineClassifier.singleShape(this.name, inputShape);
    this.checkInputShape(shape);
    return [shape[0], this.units];
  }

  override call(inputs: tf.Tensor|tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (Array.isArray(inputs) && inputs.length !== 1) {
        throw new Error(`${NAME} '${this.name}': expects one input, got ${inputs.length}`);
      }
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      this.checkInputShape(x.shape);
      if (this.kernel == null) throw new Error(`${NAME} '${this.name}': called before it was built`);
      const batch = x.shape[0];
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const w = this.kernel.read();
      const unitX = tf.mul(xf, tf.rsqrt(tf.maximum(tf.sum(tf.square(xf), -1, true), SQUARED_NORM_EPSILON)));
      const inverseColumnNorms = tf.rsqrt(tf.maximum(tf.sum(tf.square(w), 0, true), SQUARED_NORM_EPSILON));
      const cosines = tf.mul(tf.matMul(unitX, w), inverseColumnNorms);  // [B, C·K], x̂·ŵ_j
      if (this.subCenters === 1) return cosines;
      // The max over each class's K columns, picked by a one-hot of the first argmax (a constant
      // for the tape): the gradient goes to that one sub-centre, as torch's max(dim) routes it,
      // also on ties (a zero row ties all K at 0), where tf.max's gradient would go to every one.
      const grouped = tf.reshape(cosines, [batch, this.units, this.subCenters]);
      // int32 one-hot, then cast: wasm's OneHot ignores a float dtype (docs/TFJS-NOTES.md).
      const pick = tf.cast(tf.oneHot(tf.argMax(grouped, 2), this.subCenters), 'float32');
      return tf.sum(tf.mul(grouped, pick), 2);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      units: this.units,
      subCenters: this.subCenters,
      kernelInitializer: {className: this.kernelInitializer.getClassName(), config: this.kernelInitializer.getConfig()},
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(CosineClassifier);

/**
 * `losses.cosineClassifier({units, subCenters = 1, kernelInitializer?, name?})`: the
 * {@link CosineClassifier} layer, cosine similarities `[B, units]` of its input `[B, D]` to
 * trainable class weights (the max over each class's `subCenters`), for `arcFaceLoss`,
 * `cosFaceLoss` and `proxyAnchorLoss`.
 */
export function cosineClassifier(args: CosineClassifierArgs): CosineClassifier {
  return new CosineClassifier(args);
}
