export { SubwordTokenizer, trainTokenizer } from './tokenizer.js';
export type { EncodeOptions, EncodeBatchOptions, EncodedBatch, DecodeOptions } from './tokenizer.js';
export type { TrainTokenizerOptions } from './train.js';
export { vocabSizeLimits } from './train.js';
export { PAD_TOKEN, EOS_TOKEN, UNK_TOKEN, docidToken } from './spec.js';
