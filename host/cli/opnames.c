/* SPDX-License-Identifier: MIT */
/* The op types an expectation may name: every op of the ONNX standard
 * (ai.onnx, ai.onnx.ml, ai.onnx.preview.training, listed from the ONNX
 * schemas) and of ONNX Runtime's com.microsoft contrib ops, so that
 * --check catches a misspelt expect.OP before any work. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "host.h"

static const char *const names[] = {
	"Abs", "Acos", "Acosh", "Adagrad", "Adam", "Add", "Affine", "And", "ArgMax", "ArgMin",
	"ArrayFeatureExtractor", "Asin", "Asinh", "Atan", "Atanh", "Attention", "AveragePool",
	"BatchNormalization", "BeamSearch", "Bernoulli", "BiasAdd", "BiasDropout", "BiasGelu",
	"BiasSoftmax", "BiasSplitGelu", "BifurcationDetector", "Binarizer", "BitShift",
	"BitmaskBiasDropout", "BitmaskDropout", "BlackmanWindow", "CDist", "Cast", "CastLike",
	"CastMap", "CategoryMapper", "Ceil", "Celu", "Clip", "ComplexMul", "ComplexMulConj",
	"Compress", "Concat", "ConcatFromSequence", "Constant", "ConstantOfShape", "Conv",
	"ConvInteger", "ConvTranspose", "ConvTransposeWithDynamicPads", "Cos", "Cosh", "Crop",
	"CropAndResize", "CumSum", "DFT", "DecoderAttention", "DecoderMaskedMultiHeadAttention",
	"DecoderMaskedSelfAttention", "DepthToSpace", "DequantizeBFP", "DequantizeLinear",
	"DequantizeWithOrder", "Det", "DictVectorizer", "Div", "Dropout", "DynamicQuantizeLSTM",
	"DynamicQuantizeLinear", "DynamicQuantizeMatMul", "DynamicSlice", "DynamicTimeWarping",
	"EPContext", "Einsum", "Elu", "EmbedLayerNormalization", "Equal", "Erf", "Exp", "Expand",
	"ExpandDims", "EyeLike", "FastGelu", "FeatureVectorizer", "Flatten", "Floor", "FusedConv",
	"FusedGemm", "FusedMatMul", "FusedMatMulActivation", "GRU", "GatedRelativePositionBias",
	"Gather", "GatherBlockQuantized", "GatherElements", "GatherND", "Gelu", "Gemm",
	"GemmFastGelu", "GemmFloat8", "GemmaRotaryEmbedding", "GivenTensorFill",
	"GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Gradient", "Greater",
	"GreaterOrEqual", "GreedySearch", "GridSample", "GroupNorm", "GroupQueryAttention",
	"HammingWindow", "HannWindow", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "If",
	"ImageScaler", "Imputer", "InstanceNormalization", "Inverse", "Irfft", "IsAllFinite",
	"IsInf", "IsNaN", "LRN", "LSTM", "LabelEncoder", "LayerNormalization", "LeakyRelu", "Less",
	"LessOrEqual", "LinearClassifier", "LinearRegressor", "Log", "LogSoftmax",
	"LongformerAttention", "Loop", "LpNormalization", "LpPool", "MatMul", "MatMulBnb4",
	"MatMulFpQ4", "MatMulInteger", "MatMulInteger16", "MatMulIntegerToFloat", "MatMulNBits",
	"Max", "MaxPool", "MaxRoiPool", "MaxUnpool", "MaxpoolWithMask", "Mean",
	"MeanVarianceNormalization", "MelWeightMatrix", "Min", "MoE", "Mod", "Momentum", "Mul",
	"MulInteger", "MultiHeadAttention", "Multinomial", "MurmurHash3", "NGramRepeatBlock",
	"Neg", "NegativeLogLikelihoodLoss", "NhwcConv", "NhwcFusedConv", "NhwcMaxPool",
	"NonMaxSuppression", "NonZero", "Normalizer", "Not", "OneHot", "OneHotEncoder", "Optional",
	"OptionalGetElement", "OptionalHasElement", "Or", "PRelu", "PackedAttention",
	"PackedMultiHeadAttention", "Pad", "ParametricSoftplus", "Pow", "QAttention",
	"QEmbedLayerNormalization", "QGemm", "QLinearAdd", "QLinearAveragePool", "QLinearConcat",
	"QLinearConv", "QLinearGlobalAveragePool", "QLinearLeakyRelu", "QLinearMatMul",
	"QLinearMul", "QLinearReduceMean", "QLinearSigmoid", "QLinearSoftmax", "QLinearWhere",
	"QMoE", "QOrderedAttention", "QOrderedGelu", "QOrderedLayerNormalization",
	"QOrderedLongformerAttention", "QOrderedMatMul", "QuantizeBFP", "QuantizeLinear",
	"QuantizeWithOrder", "QuickGelu", "RNN", "RandomNormal", "RandomNormalLike",
	"RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1", "ReduceL2",
	"ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
	"ReduceSum", "ReduceSumInteger", "ReduceSumSquare", "RelativePositionBias", "Relu",
	"RemovePadding", "Reshape", "Resize", "RestorePadding", "ReverseSequence", "Rfft",
	"RoiAlign", "RotaryEmbedding", "Round", "STFT", "SVMClassifier", "SVMRegressor",
	"Sampling", "Scale", "ScaledTanh", "Scaler", "Scan", "Scatter", "ScatterElements",
	"ScatterND", "Selu", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
	"SequenceInsert", "SequenceLength", "SequenceMap", "Shape", "Shrink", "Sigmoid", "Sign",
	"SimplifiedLayerNormalization", "Sin", "Sinh", "Size", "SkipGroupNorm",
	"SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "Slice", "Softmax",
	"SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "SparseAttention",
	"SparseToDenseMatMul", "Split", "SplitToSequence", "Sqrt", "Squeeze", "StringNormalizer",
	"Sub", "Sum", "Tan", "Tanh", "TfIdfVectorizer", "ThresholdedRelu", "Tile", "Tokenizer",
	"TopK", "TorchEmbedding", "Transpose", "TransposeMatMul", "TreeEnsembleClassifier",
	"TreeEnsembleRegressor", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where",
	"WhisperBeamSearch", "WordConvEmbedding", "Xor", "ZipMap",
};

static int cmp(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

bool op_type_known(const char *op)
{
	return bsearch(op, names, sizeof(names) / sizeof(names[0]), sizeof(names[0]), cmp) != NULL;
}

const char *op_type_suggest(const char *op)
{
	return closest_word(op, names, sizeof(names) / sizeof(names[0]));
}
