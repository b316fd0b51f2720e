// Package calibtable reads and writes TensorRT's INT8 calibration cache, the
// "CalibrationTable" text file that sampleINT8 keeps next to the network
// (file name "CalibrationTable" + network name, e.g. CalibrationTablemnist).
//
// # Format
//
// Facts below are from the project's research notes,
// /work/shared/docs/calibration-anchors.md §1 (cited as "anchors §1.x"),
// which in turn cite the TensorRT sources. A cache is
//
//	TRT-<version>-<algorithm>
//	<tensor name>: <8 lowercase hex digits>
//	...
//
// for example the TensorRT 7.0 sampleINT8 README table for MNIST LeNet
// (anchors §1.1, NVIDIA/TensorRT@b1dcc41f samples/sampleINT8/README.md):
//
//	TRT-7000-EntropyCalibration2
//	data: 3c008912
//	conv1: 3c88edfc
//	...
//	prob: 3c010a14
//
// Each value is the IEEE-754 binary32 bit pattern of the TensorRT scale
// amax/127, printed most-significant nibble first as %08x (anchors §1.2).
// TensorRT's consumers turn it back into a dynamic range as 127*scale in
// float32 (trtexec readScalesFromCalibrationCache, ONNX Runtime's
// ReadDynamicRange). [ScaleFromAmax] and [Entry.Amax] do exactly those float32
// operations, so amax 1 gives 3c010204, amax 4081/4096 (= 2040.5/2048, the
// EntropyCalibration2 threshold for an MNIST input in [0,1]) gives 3c008912,
// and amax 4097/4096 (a softmax output) gives 3c010a14 (anchors §1.2 table).
//
// # Header version
//
// The header carries TensorRT's NV_TENSORRT_VERSION integer (anchors §1.3):
//
//   - TensorRT <= 9.x: major*1000 + minor*100 + patch
//     (kNV_TENSORRT_VERSION_IMPL, NVIDIA/TensorRT@v8.6.1
//     include/NvInferRuntimeBase.h), so 7.0.0 is "7000", 8.6.1 is "8601";
//   - TensorRT >= 10.0: major*10000 + minor*100 + patch
//     (NV_TENSORRT_VERSION_INT, NVIDIA/TensorRT@v10.0.0
//     include/NvInferRuntimeBase.h), so 10.3.0 is "100300".
//
// [HeaderVersion] and [TRTVersion.HeaderVersion] pick the encoding from the
// major version (below 10: the first, otherwise the second); the two formulas
// are also available on their own as [LegacyVersionNumber] and
// [VersionNumberInt]. The build number is in neither macro and is ignored.
// [ParseTRTVersion] reads a --trt-version flag value ("8.6.1", "10.3",
// "8.6.1.6", or a header number such as "8601"); [ParseHeaderVersion] decodes
// a header number. TensorRT re-calibrates when a cache "is incompatible with
// the current TensorRT version or calibrator variant it was generated with"
// (sampleINT8 README, anchors §1.3), so the header should name the TensorRT
// that will read the cache.
//
// # Reading
//
// [Parse] and [ReadFile] split lines as trtexec does (anchors §1.2, §1.5):
// the name is everything before the last ':' on the line, kept byte for byte
// (names may contain ':', spaces and brackets, e.g. "(Unnamed Layer* 4)
// [Fully Connected]_output"). After the ':' and any spaces or tabs come 1 to 8
// hex digits of either case (trtexec itself reads exactly the 8 characters
// after ": "). They also accept CRLF line ends, trailing white space,
// whitespace-only lines anywhere after the header, and a final line without
// a newline. The first line must be the header. Errors carry the
// file name and line number and say what was expected ([ParseError]); a tensor
// name that appears twice is an error. A table with a header and no entries is
// valid.
//
// Every scale must be usable ([CheckScale]): a positive normal float32 whose
// amax, 127·scale, is finite. NaN, ±Inf, zero, negative and denormal scales,
// and ones so large that the amax overflows, are errors naming the line and
// the tensor: a reader that let them through would quantize with them (or
// silently not quantize) while reporting INT8. Lines are at most [MaxLine]
// bytes and tables at most [MaxSize], found without reading further.
// [Table.Match] checks a table against the tensors of the model it is used
// with.
//
// # Writing
//
// [Write] emits the form of the published tables: the header line, then one
// "name: %08x" line per entry in the order of [Table.Entries] (the package
// keeps whatever order the table has; the published tables list the network's
// tensors input first, output last), every line ending in a single '\n',
// including the last (anchors §1.5 writes "%s: %08x\n" per line; the published
// tables do not show whether the file ends in a newline). Parsing that output and
// writing it again is byte-for-byte identical. [WriteFile] replaces a file
// atomically: it writes a temporary file in the same directory, syncs it and
// renames it over the target, so readers see either the old or the new file.
//
// [WriteJSON] and [ReadJSON] give the same table as JSON with, per tensor,
// its name, amax, scale and hex value.
//
// The cache format belongs to TensorRT's implicit quantization, deprecated in
// TensorRT 10.1 and removed in 11.0 (anchors §5); such a cache is consumed only
// by TensorRT <= 10.x.
package calibtable
