package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pluginhost"
)

const pluginsSynopsis = `Lists the plugins found (in --plugin-dir, then $INT8CAL_PLUGIN_PATH, then
next to the int8cal binary), calibrators and data sets, with their kind,
version, protocol version and options. Each plugin is started and asked for its Info; one that fails its
handshake is listed with the reason.`

func pluginsCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugins", pluginsSynopsis)
	dir := fs.String("plugin-dir", "", "directory searched first")
	logLevel := fs.String("log-level", "warn", "log level for the plugins' own logs")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "int8cal", Level: hclog.LevelFromString(*logLevel), Output: stderr})
	dirs := pluginhost.SearchDirs(*dir)
	calibrators := pluginhost.Find(pluginhost.CalibratorKind, dirs)
	datasets := pluginhost.Find(pluginhost.BatchStreamKind, dirs)
	fmt.Fprintf(stdout, "Searched: %s\n", strings.Join(dirs, ", "))
	if len(calibrators)+len(datasets) == 0 {
		fmt.Fprintln(stdout, "No plugins found; `make` builds the bundled ones into bin/.")
		return nil
	}
	for _, f := range calibrators {
		c, err := pluginhost.StartCalibrator(f, log)
		if err != nil {
			unusable(stdout, f, err)
			continue
		}
		i := c.Info
		fmt.Fprintf(stdout, "\n%s %s %s (protocol %d, %s)\n", f.Kind, i.Name, i.Version, c.Protocol, f.Path)
		fmt.Fprintf(stdout, "  algorithm %s; statistics %s", i.Algorithm, i.Statistics)
		if i.Bins > 0 {
			fmt.Fprintf(stdout, " (%d bins)", i.Bins)
		}
		fmt.Fprintln(stdout)
		describe(stdout, i.Description)
		for _, o := range i.Options {
			option(stdout, o.Name, o.Default, o.Description)
		}
		c.Close()
	}
	for _, f := range datasets {
		b, err := pluginhost.StartBatchStream(f, log)
		if err != nil {
			unusable(stdout, f, err)
			continue
		}
		i := b.Info
		fmt.Fprintf(stdout, "\n%s %s %s (protocol %d, %s)\n", f.Kind, i.Name, i.Version, b.Protocol, f.Path)
		describe(stdout, i.Description)
		for _, o := range i.Options {
			option(stdout, o.Name, o.Default, o.Description)
		}
		b.Close()
	}
	return nil
}

func unusable(w io.Writer, f pluginhost.Found, err error) {
	fmt.Fprintf(w, "\n%s %s (%s)\n  unusable: %v\n", f.Kind, f.Name, f.Path, err)
}

func describe(w io.Writer, text string) {
	if text != "" {
		fmt.Fprintf(w, "  %s\n", text)
	}
}

func option(w io.Writer, name, def, desc string) {
	if def == "" {
		fmt.Fprintf(w, "  option %s: %s\n", name, desc)
		return
	}
	fmt.Fprintf(w, "  option %s (default %q): %s\n", name, def, desc)
}
