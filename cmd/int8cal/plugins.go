package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pluginhost"
)

const pluginsSynopsis = `Lists the plugins found (in --plugin-dir, then $INT8CAL_PLUGIN_PATH, then
next to the int8cal binary) with their kind, version, protocol version and
options. Each plugin is started and asked for its Info; one that fails its
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
	found := pluginhost.Find(pluginhost.CalibratorKind, dirs)
	fmt.Fprintf(stdout, "Searched: %s\n", strings.Join(dirs, ", "))
	if len(found) == 0 {
		fmt.Fprintln(stdout, "No plugins found; `make` builds the bundled ones into bin/.")
		return nil
	}
	for _, f := range found {
		c, err := pluginhost.StartCalibrator(f, log)
		if err != nil {
			fmt.Fprintf(stdout, "\n%s %s (%s)\n  unusable: %v\n", f.Kind, f.Name, f.Path, err)
			continue
		}
		i := c.Info
		fmt.Fprintf(stdout, "\n%s %s %s (protocol %d, %s)\n", f.Kind, i.Name, i.Version, c.Protocol, f.Path)
		fmt.Fprintf(stdout, "  algorithm %s; statistics %s", i.Algorithm, i.Statistics)
		if i.Bins > 0 {
			fmt.Fprintf(stdout, " (%d bins)", i.Bins)
		}
		fmt.Fprintln(stdout)
		if i.Description != "" {
			fmt.Fprintf(stdout, "  %s\n", i.Description)
		}
		for _, o := range i.Options {
			fmt.Fprintf(stdout, "  option %s (default %q): %s\n", o.Name, o.Default, o.Description)
		}
		c.Close()
	}
	return nil
}
