/**
 * Fastify's schema compilers, deferred to each route's first use.
 *
 * Fastify compiles every route's request validator (Ajv) and response serializer
 * (fast-json-stringify) while the app becomes ready, and loads Ajv to do it. For
 * this API that was about a third of a restart's CPU beyond PGlite itself
 * (docs/adr/0015-startup.md). Here each route gets a stand-in that compiles the
 * real function the first time it is called, with the very compilers and options
 * Fastify would have used, so behaviour is unchanged; the two compiler packages
 * load on the first request that needs one.
 *
 * `compileAll()` compiles whatever is still deferred: tests call it so a broken
 * schema fails there rather than on some route's first request.
 */
import { createRequire } from 'node:module';
import type AjvCompiler from '@fastify/ajv-compiler';
import type SerializerSelector from '@fastify/fast-json-stringify-compiler';

const require = createRequire(import.meta.url);

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type ValidatorFactory = AjvCompiler.BuildCompilerFromPool;
type SerializerFactory = SerializerSelector.SerializerFactory;
type ValidateFunction = ReturnType<ReturnType<ValidatorFactory>>;

export interface LazySchemaCompilers {
  /** The `schemaController.compilersFactory` Fastify option. */
  compilersFactory: { buildValidator: ValidatorFactory; buildSerializer: SerializerFactory };
  /** Compile every deferred validator and serializer now (throws on a bad schema). */
  compileAll(): void;
}

/**
 * Compilers for one Fastify instance.
 *
 * @example
 *   const lazy = lazySchemaCompilers();
 *   const app = Fastify({ schemaController: { compilersFactory: lazy.compilersFactory } });
 */
export function lazySchemaCompilers(): LazySchemaCompilers {
  const pending = new Set<() => unknown>();
  // Fastify's own defaults (schema-controller.js), created once, on first need.
  let validators: ReturnType<typeof AjvCompiler> | undefined;
  const validatorPool = () =>
    (validators ??= (require('@fastify/ajv-compiler') as typeof AjvCompiler)());

  function deferred<F>(build: () => F): () => F {
    let fn: F | undefined;
    const get = (): F => {
      if (fn === undefined) {
        fn = build();
        pending.delete(get);
      }
      return fn;
    };
    pending.add(get);
    return get;
  }

  const buildValidator: ValidatorFactory = (externalSchemas, options) => (route) => {
    const get = deferred(
      () => validatorPool()(externalSchemas, options)(route) as unknown as Validate,
    );
    const validate = ((data: unknown) => get()(data)) as Validate;
    // Fastify reads `errors` off the function it called after a failed validation.
    Object.defineProperty(validate, 'errors', { get: () => get().errors });
    return validate as unknown as ValidateFunction;
  };
  // Response schemas document the answers (and tests check answers against them); they
  // never filter what is sent, so an answer is serialized as it is (docs/adr/0025-openapi.md).
  const buildSerializer: SerializerFactory = () => () => (doc: unknown) => JSON.stringify(doc);

  return {
    compilersFactory: { buildValidator, buildSerializer },
    compileAll() {
      for (const get of [...pending]) get();
    },
  };
}
