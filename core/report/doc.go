// Package report writes int8cal's HTML report (--report FILE.html on
// calibrate, compare and debug): one self-contained page to look at
// rather than read. Per tensor it shows the histogram of |x| on a log
// scale with each calibrator's threshold marked, each calibrator's curve
// (the quantity it minimized per candidate, calib.Range.Curve) with the
// chosen candidate labelled with its amax, and the clipped fraction (the
// share of |x| above each threshold); then compare's table and debug's
// per-layer errors when the command has them.
//
// The page needs no network: the data go in as JSON inside a script
// element, and an inline script draws the charts as SVG. After drawing it
// sets data-rendered (the number of charts drawn) and data-tensors on
// <body>, and any script error goes into data-errors and a visible
// message, which is what the browser test reads.
//
// Size: a histogram is trimmed after its last non-empty bin and keeps at
// most MaxBins bins (adjacent bins summed, so counts stay exact sums), and
// a curve at most MaxPoints points (the minimum of each run of adjacent
// candidates, the envelope a minimized quantity is read by; the chosen
// candidate is kept exactly). Clipped fractions are computed from the
// full histogram before that. A tensor therefore costs a few KB whatever
// the calibrators' resolution.
package report
