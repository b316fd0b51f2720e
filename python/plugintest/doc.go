// Package plugintest tests the Python plugin SDK (python/int8cal_plugin)
// and its examples against the real int8cal host: the example plugins run
// as real subprocesses started by core/pluginhost and pass the Go
// conformance suites (plugins/sdk/calibratortest,
// datasets/sdk/batchstreamtest). It has no code besides its tests.
//
// The tests use the repository's virtual environment (.venv, `make
// pydeps`), else make one with `python3 -m pip` in a temporary directory;
// they skip, saying so, only where pip cannot install grpcio, protobuf and
// numpy. The plugins run the SDK of this working tree (PYTHONPATH), not the
// copy pip installed.
package plugintest
