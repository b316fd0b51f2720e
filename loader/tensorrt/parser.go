package tensorrt

import "github.com/int8cal/int8cal/loader"

// ParserSpec finds TensorRT's ONNX parser: $INT8CAL_NVONNXPARSER_LIB, then
// the sonames of the supported major versions, newest first. The parser
// needs libnvinfer of the same major version, which a wheel's copy finds
// beside it.
var ParserSpec = &loader.Spec{
	Name:    "TensorRT ONNX parser",
	Env:     "INT8CAL_NVONNXPARSER_LIB",
	Sonames: []string{"libnvonnxparser.so.11", "libnvonnxparser.so.10", "libnvonnxparser.so.8", "libnvonnxparser.so"},
	Symbols: []string{"getNvOnnxParserVersion", "createNvOnnxParser_INTERNAL"},
}

// Parser is an opened libnvonnxparser.
type Parser struct {
	Lib *loader.Library
	// Version is getNvOnnxParserVersion: the parser API's
	// NV_ONNX_PARSER_VERSION, 10000·major+100·minor+patch (100, API 0.1.0,
	// in the headers from TensorRT 8.6 to 11.1), not TensorRT's version.
	Version int
}

// OpenParser finds libnvonnxparser and reads its version.
func OpenParser(explicit string) (*Parser, error) {
	lib, err := openBeside(ParserSpec, explicit)
	if err != nil {
		return nil, err
	}
	var getVersion func() int32
	if err := lib.Bind(&getVersion, "getNvOnnxParserVersion"); err != nil {
		lib.Close()
		return nil, err
	}
	return &Parser{Lib: lib, Version: int(getVersion())}, nil
}
