/**
 * Reading a SentencePiece model file (`spiece.model`, the `ModelProto` protobuf): its
 * pieces with scores and types, the trainer settings that change encoding (model type,
 * byte fallback, special ids) and the normalizer (precompiled character map and the
 * whitespace rules). Fields that only matter for training are skipped.
 */
import protobuf from 'protobufjs';
import { UserError } from '../../util/errors.js';

/** `ModelProto.SentencePiece.Type`. */
export enum PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

/** How text is normalized before segmentation (`NormalizerSpec`). */
export interface NormalizerSpec {
  name: string;
  /** The compiled character map (double-array trie + replacement strings); empty for identity. */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** `TrainerSpec.model_type`: 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  normalizer: NormalizerSpec;
}

const WIRE_LENGTH_DELIMITED = 2;

/** Reads the fields of one message: calls `field(number, wireType)`, which reads its value or returns false to skip it. */
function readMessage(reader: protobuf.Reader, end: number, field: (number: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (!field(number, wireType)) reader.skipType(wireType);
  }
}

function readPiece(reader: protobuf.Reader, end: number): SentencePiece {
  const piece: SentencePiece = { piece: '', score: 0, type: PieceType.Normal };
  readMessage(reader, end, (number) => {
    if (number === 1) piece.piece = reader.string();
    else if (number === 2) piece.score = reader.float();
    else if (number === 3) piece.type = reader.int32();
    else return false;
    return true;
  });
  return piece;
}

/** Parses `spiece.model` bytes; `file` names it in errors. */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    // TrainerSpec defaults (sentencepiece_model.proto).
    modelType: 1,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizer: {
      name: '',
      precompiledCharsmap: new Uint8Array(0),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  let sawNormalizer = false;
  try {
    const reader = protobuf.Reader.create(bytes);
    readMessage(reader, reader.len, (number, wireType) => {
      if (wireType !== WIRE_LENGTH_DELIMITED) return false;
      if (number === 1) {
        const length = reader.uint32();
        model.pieces.push(readPiece(reader, reader.pos + length));
      } else if (number === 2) {
        const length = reader.uint32();
        readMessage(reader, reader.pos + length, (field) => {
          switch (field) {
            case 3:
              model.modelType = reader.int32();
              break;
            case 24:
              model.treatWhitespaceAsSuffix = reader.bool();
              break;
            case 35:
              model.byteFallback = reader.bool();
              break;
            case 40:
              model.unkId = reader.int32();
              break;
            case 41:
              model.bosId = reader.int32();
              break;
            case 42:
              model.eosId = reader.int32();
              break;
            case 43:
              model.padId = reader.int32();
              break;
            default:
              return false;
          }
          return true;
        });
      } else if (number === 3) {
        sawNormalizer = true;
        const length = reader.uint32();
        const spec = model.normalizer;
        readMessage(reader, reader.pos + length, (field) => {
          switch (field) {
            case 1:
              spec.name = reader.string();
              break;
            case 2:
              spec.precompiledCharsmap = reader.bytes();
              break;
            case 3:
              spec.addDummyPrefix = reader.bool();
              break;
            case 4:
              spec.removeExtraWhitespaces = reader.bool();
              break;
            case 5:
              spec.escapeWhitespaces = reader.bool();
              break;
            default:
              return false;
          }
          return true;
        });
      } else {
        return false;
      }
      return true;
    });
  } catch (err) {
    throw new UserError(`${file}: not a SentencePiece model (protobuf: ${(err as Error).message})`);
  }
  if (model.pieces.length === 0) throw new UserError(`${file}: not a SentencePiece model (no pieces)`);
  if (!sawNormalizer) throw new UserError(`${file}: not a SentencePiece model (no normalizer_spec)`);
  return model;
}
