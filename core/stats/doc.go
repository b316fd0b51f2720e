// Package stats defines the statistics of activation tensors that
// calibration gathers (Tensor), in a form whose parts merge exactly; the
// runner interface through which a backend gathers them where the tensors
// are; and the statistics file (File), which carries them from one
// process or machine to another. The host's collector
// (core/calibrate.Collect) merges them; a GPU backend (core/cuda)
// implements Runner; a shard of a calibration writes a File and a merge
// reads them. Keeping them here lets a backend serve calibration without
// depending on the calibration job.
//
// A File is versioned and checksummed, and Decode, its reader, is fuzzed:
// statistics files travel between machines, so a truncated, altered or
// foreign file is refused before anything in it is believed. Merge
// refuses files that are not shards of one calibration (another model,
// other data or options, other batches or statistics) and names the shard
// missing or given twice.
package stats
