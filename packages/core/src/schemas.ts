import { Ajv, type ValidateFunction } from 'ajv';
import { SchemaValidationError } from './errors.ts';
import type { SwitchyardEvent } from './event.ts';
import { isPromiseLike } from './promise.ts';

/** The Standard Schema v1 interface (zod, valibot, arktype...), inlined as its spec recommends. */
export interface StandardSchemaV1<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  };
}
// Optional fields carry `| undefined` as in the Standard Schema spec, so that a library's schema
// (zod, valibot, arktype) is assignable under `exactOptionalPropertyTypes`.
type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** A JSON Schema document (draft-07 / 2019-09 keywords as Ajv supports them). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export type Schema = StandardSchemaV1 | JsonSchema;

/** Turns data of version `fromVersion` into the shape of `fromVersion + 1`. */
export type Upcaster = (data: unknown, event: SwitchyardEvent) => unknown;

export interface RegisterOptions {
  /** The current version of this type's data; carried as the `dataversion` extension. Default: 1. */
  readonly version?: number;
}

/** Issues found; a Standard Schema may answer asynchronously, JSON Schema (ajv) always answers at once. */
type Validator = (data: unknown) => readonly string[] | Promise<readonly string[]>;

const NO_ISSUES: readonly string[] = [];

/** Schemas by event type: validated on publish and on consume; older versions upcast on consume. */
export class SchemaRegistry {
  #validators = new Map<string, Validator>();
  #versions = new Map<string, number>();
  #upcasters = new Map<string, Map<number, Upcaster>>();
  #ajv: Ajv | undefined;

  register(type: string, schema: Schema, options: RegisterOptions = {}): this {
    this.#validators.set(type, isStandard(schema) ? standardValidator(schema) : this.#jsonValidator(schema));
    if (options.version !== undefined) this.#versions.set(type, options.version);
    return this;
  }

  /** Register how data of `type` at `fromVersion` becomes `fromVersion + 1`. */
  upcast(type: string, fromVersion: number, upcaster: Upcaster): this {
    let byVersion = this.#upcasters.get(type);
    if (!byVersion) {
      byVersion = new Map();
      this.#upcasters.set(type, byVersion);
    }
    byVersion.set(fromVersion, upcaster);
    const current = this.#versions.get(type) ?? 1;
    if (current <= fromVersion) this.#versions.set(type, fromVersion + 1);
    return this;
  }

  /** The version stamped on newly published events of `type`, if any was declared. */
  versionOf(type: string): number | undefined {
    return this.#versions.get(type);
  }

  /** Throws `SchemaValidationError` when `type` has a schema and `data` fails it. */
  async validate(type: string, data: unknown): Promise<void> {
    await this.check(type, data);
  }

  /**
   * `validate`, answered synchronously when it can be (no schema for `type`, or one that checks at
   * once): throws `SchemaValidationError`, or returns a promise only for an asynchronous schema.
   */
  check(type: string, data: unknown): void | Promise<void> {
    const validator = this.#validators.get(type);
    if (!validator) return;
    const issues = validator(data);
    if (isPromiseLike<readonly string[]>(issues)) {
      return Promise.resolve(issues).then((found) => {
        if (found.length > 0) throw new SchemaValidationError(type, found);
      });
    }
    if (issues.length > 0) throw new SchemaValidationError(type, issues);
  }

  /** Bring a consumed event's data up to the current version, then validate it. */
  async accept<T>(event: SwitchyardEvent): Promise<SwitchyardEvent<T>> {
    return this.admit<T>(event);
  }

  /**
   * `accept`, answered synchronously when no asynchronous schema is involved: returns the event (or
   * throws), or a promise of it. The bus decodes every delivery through here.
   */
  admit<T>(event: SwitchyardEvent): SwitchyardEvent<T> | Promise<SwitchyardEvent<T>> {
    const current = this.#versions.get(event.type);
    let result = event;
    if (current !== undefined) {
      let version = Number(event.extensions.dataversion ?? '1');
      if (!Number.isInteger(version) || version < 1) {
        throw new SchemaValidationError(event.type, [
          `dataversion '${event.extensions.dataversion}' is not a version`,
        ]);
      }
      const received = version;
      let data = event.data;
      while (version < current) {
        const upcaster = this.#upcasters.get(event.type)?.get(version);
        if (!upcaster) throw new SchemaValidationError(event.type, [`no upcaster from version ${version}`]);
        data = upcaster(data, event);
        version += 1;
      }
      // Compare versions, not data: an upcaster may change the data in place and return it.
      if (version !== received) {
        result = { ...event, data, extensions: { ...event.extensions, dataversion: String(current) } };
      }
    }
    const checked = this.check(result.type, result.data);
    if (checked === undefined) return result as SwitchyardEvent<T>;
    return checked.then(() => result as SwitchyardEvent<T>);
  }

  #jsonValidator(schema: JsonSchema): Validator {
    this.#ajv ??= new Ajv({ allErrors: true, strict: false });
    const validate: ValidateFunction = this.#ajv.compile(schema);
    return (data) =>
      validate(data)
        ? NO_ISSUES
        : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
}

function isStandard(schema: Schema): schema is StandardSchemaV1 {
  return typeof schema === 'object' && schema !== null && '~standard' in schema;
}

function standardValidator(schema: StandardSchemaV1): Validator {
  return (data) => {
    const result = schema['~standard'].validate(data);
    return isPromiseLike<StandardResult<unknown>>(result)
      ? Promise.resolve(result).then(issuesOf)
      : issuesOf(result);
  };
}

function issuesOf(result: StandardResult<unknown>): readonly string[] {
  if (!result.issues) return NO_ISSUES;
  return result.issues.map((issue) => {
    const path = issue.path?.map((p) =>
      typeof p === 'object' && p && 'key' in p ? String(p.key) : String(p),
    );
    return path && path.length > 0 ? `${path.join('.')}: ${issue.message}` : issue.message;
  });
}
