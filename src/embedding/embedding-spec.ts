import type { AppConfig, EmbeddingProviderName } from '../config/app-config';

/**
 * What it takes to rebuild a model's embedder in any process: the provider and the
 * settings that decide its vectors or where they come from. Never holds secrets (the
 * API key comes from the process's own configuration).
 */
export interface EmbeddingSpec {
  provider: EmbeddingProviderName;
  /** The provider's `modelId`, recorded with each chunk. */
  modelId: string;
  dimension: number;
  /** Model name sent to a hosted provider. */
  model?: string;
  baseUrl?: string;
  apiKeyHeader?: 'authorization' | 'api-key';
  sendDimensions?: boolean;
  /** int8 weights of the local model. */
  quantize?: boolean;
}

/** The spec of the configured provider (`modelId`/`dimension` as the built provider reports them). */
export function specFromConfig(config: AppConfig, modelId: string, dimension: number): EmbeddingSpec {
  const e = config.embedding;
  switch (e.provider) {
    case 'hash':
      return { provider: 'hash', modelId, dimension };
    case 'local':
      return { provider: 'local', modelId, dimension, quantize: e.quantize };
    case 'openai':
      return {
        provider: 'openai',
        modelId,
        dimension,
        model: e.model,
        baseUrl: e.openai.baseUrl,
        apiKeyHeader: e.openai.apiKeyHeader,
        sendDimensions: e.openai.sendDimensions,
      };
  }
}

/** `config` with its embedding settings replaced by the spec's, for building that spec's provider. */
export function configForSpec(config: AppConfig, spec: EmbeddingSpec): AppConfig {
  const e = config.embedding;
  return {
    ...config,
    embedding: {
      ...e,
      provider: spec.provider,
      dimension: spec.dimension,
      quantize: spec.quantize ?? false,
      model: spec.model,
      openai: {
        ...e.openai,
        baseUrl: spec.baseUrl ?? e.openai.baseUrl,
        apiKeyHeader: spec.apiKeyHeader ?? e.openai.apiKeyHeader,
        sendDimensions: spec.sendDimensions ?? false,
      },
    },
  };
}

/**
 * A spec for vectors stored before generations were recorded, from the model id alone,
 * for the built-in models whose id says everything; undefined for hosted models.
 */
export function specFromModelId(modelId: string, dimension: number): EmbeddingSpec | undefined {
  if (modelId === 'local:all-MiniLM-L6-v2' || modelId === 'local:all-MiniLM-L6-v2-int8') {
    return { provider: 'local', modelId, dimension, quantize: modelId.endsWith('-int8') };
  }
  if (modelId === `hash:fnv1a-uni-bigram-${dimension}`) return { provider: 'hash', modelId, dimension };
  return undefined;
}

/** True when both describe vectors that can share one index. */
export function sameModel(a: { modelId: string; dimension: number }, b: { modelId: string; dimension: number }): boolean {
  return a.modelId === b.modelId && a.dimension === b.dimension;
}
