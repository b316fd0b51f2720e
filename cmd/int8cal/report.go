package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/report"
)

// reportFlag is --report on calibrate, compare and debug.
type reportFlag struct{ path string }

func (r *reportFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&r.path, "report", "", "also write an HTML report to this file: per tensor, the histogram of |x| with each threshold, "+
		"each calibrator's curve and the clipped fraction (and compare's table, debug's per-layer errors); one page that opens offline")
}

// write builds the report (only when --report is given), writes it and
// says where it went on w.
func (r *reportFlag) write(w io.Writer, build func() (*report.Report, error)) error {
	if r.path == "" {
		return nil
	}
	rep, err := build()
	if err != nil {
		return err
	}
	rep.Metadata = append(rep.Metadata, report.Field{Name: "int8cal", Value: fmt.Sprintf("%s (%s, %s/%s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)})
	if err := pipeline.WriteReport(r.path, rep); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "wrote report %s\n", r.path)
	return err
}

// messages is where a command's own lines go beside its table: stdout,
// unless stdout carries a format a program reads.
func messages(format string, stdout, stderr io.Writer) io.Writer {
	if format == "text" {
		return stdout
	}
	return stderr
}
