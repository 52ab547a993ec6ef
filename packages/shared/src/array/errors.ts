/** What is wrong with an array path, name or marker; callers branch on it. */
export type ArrayLayoutErrorCode =
  /** A port or device name is not a safe file name (`[A-Za-z0-9_.-]{1,64}`, no '..', not '.'). */
  | 'bad-name'
  /** A flight id is not a safe file name (`[A-Za-z0-9_.-]{1,128}`, no '..', not '.'). */
  | 'bad-flight-id'
  /** An asset path relative to its camera folder is absolute, empty, or leaves the folder. */
  | 'bad-rel-path'
  /** The array root argument is empty. */
  | 'bad-root'
  /** `flysnap-array.json` does not exist: not a Fly and Snap array (or not prepared yet). */
  | 'marker-missing'
  /** `flysnap-array.json` is not valid JSON or misses/has wrong-typed fields. */
  | 'bad-marker'
  /** The marker's `layoutVersion` is not one this code knows (newer array, or garbage). */
  | 'unsupported-layout-version'
  /** Writing a marker where one already exists, without `overwrite`. */
  | 'marker-exists';

export class ArrayLayoutError extends Error {
  override readonly name = 'ArrayLayoutError';
  readonly code: ArrayLayoutErrorCode;
  constructor(code: ArrayLayoutErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
