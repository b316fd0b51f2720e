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
handshake, calls itself by another name than its file's, or is refused by the plugin lock file
is listed with the reason.

--lock FILE records the SHA-256 of every plugin listed as usable in FILE (JSON, written atomically);
commands given --plugin-lock FILE, or finding ` + pluginhost.DefaultLockName + ` beside the int8cal binary,
then refuse any plugin the file does not list or whose program changed.`

func pluginsCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugins", pluginsSynopsis)
	dir := fs.String("plugin-dir", "", "directory searched first")
	logLevel := fs.String("log-level", "warn", "log level for the plugins' own logs")
	lockOut := fs.String("lock", "", "write a plugin lock file recording the SHA-256 of the usable plugins found")
	lockIn := fs.String("plugin-lock", "", lockFlagUsage)
	format := fs.String("format", "text", formatUsage)
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "int8cal", Level: hclog.LevelFromString(*logLevel), Output: stderr})
	var lock, record *pluginhost.Lock
	if *lockOut != "" {
		// Recording pins afresh: the lock in force does not apply.
		record = pluginhost.NewLock(*lockOut)
	} else {
		var err error
		if lock, err = pluginhost.LoadLock(*lockIn); err != nil {
			return err
		}
	}
	dirs := pluginhost.SearchDirs(*dir)
	listed := pluginhost.Survey(dirs, lock, record, log)
	if *format == "json" {
		// The lock is written first, so that "recorded" is true.
		if record != nil {
			if err := record.Write(); err != nil {
				return err
			}
		}
		return writeJSON(stdout, newPluginsJSON(dirs, lock, record, listed))
	}
	fmt.Fprintf(stdout, "Searched: %s\n", strings.Join(dirs, ", "))
	if lock != nil {
		fmt.Fprintf(stdout, "Plugin lock: %s\n", lock.File)
	}
	if len(listed) == 0 {
		fmt.Fprintln(stdout, "No plugins found; `make` builds the bundled ones into bin/.")
	}
	for _, l := range listed {
		printListed(stdout, l)
	}
	if record != nil {
		if err := record.Write(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nRecorded %d plugin(s) in %s\n", len(record.Plugins), record.File)
	}
	return nil
}

// pluginsJSON is plugins' --format json: what printListed prints, as fields.
type pluginsJSON struct {
	Searched []string `json:"searched"`
	Lock     string   `json:"plugin_lock,omitempty"`
	// Recorded is the lock file written by --lock.
	Recorded string       `json:"recorded,omitempty"`
	Plugins  []pluginJSON `json:"plugins"`
}

type pluginJSON struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Version  string `json:"version,omitempty"`
	Protocol int    `json:"protocol,omitempty"`
	Path     string `json:"path"`
	SHA256   string `json:"sha256,omitempty"`
	// Unusable is why the plugin cannot be used; the fields below are
	// then empty.
	Unusable    string       `json:"unusable,omitempty"`
	Algorithm   string       `json:"algorithm,omitempty"`
	Statistics  string       `json:"statistics,omitempty"`
	Bins        int          `json:"bins,omitempty"`
	Description string       `json:"description,omitempty"`
	Options     []optionJSON `json:"options,omitempty"`
}

type optionJSON struct {
	Name        string `json:"name"`
	Default     string `json:"default"`
	Description string `json:"description"`
}

func newPluginsJSON(dirs []string, lock, record *pluginhost.Lock, listed []pluginhost.Listed) pluginsJSON {
	out := pluginsJSON{Searched: dirs, Plugins: []pluginJSON{}}
	if lock != nil {
		out.Lock = lock.File
	}
	if record != nil {
		out.Recorded = record.File
	}
	for _, l := range listed {
		p := pluginJSON{Kind: string(l.Kind), Name: l.Name, Protocol: l.Protocol, Path: l.Path, SHA256: l.SHA256}
		switch {
		case l.Err != nil:
			p.Unusable = pluginhost.Clean(l.Err.Error(), 4*pluginhost.MaxErrorText)
		case l.Calibrator != nil:
			c := l.Calibrator
			p.Name, p.Version, p.Algorithm, p.Statistics, p.Bins, p.Description = c.Name, c.Version, c.Algorithm, c.Statistics.String(), c.Bins, c.Description
			for _, o := range c.Options {
				p.Options = append(p.Options, optionJSON{pluginhost.Clean(o.Name, 256), o.Default, o.Description})
			}
		default:
			d := l.Dataset
			p.Name, p.Version, p.Description = d.Name, d.Version, d.Description
			for _, o := range d.Options {
				p.Options = append(p.Options, optionJSON{pluginhost.Clean(o.Name, 256), o.Default, o.Description})
			}
		}
		out.Plugins = append(out.Plugins, p)
	}
	return out
}

func printListed(w io.Writer, l pluginhost.Listed) {
	if l.Err != nil {
		fmt.Fprintf(w, "\n%s %s (%s)\n  unusable: %s\n", kindLabel(l.Kind), l.Name, l.Path, pluginhost.Clean(l.Err.Error(), 4*pluginhost.MaxErrorText))
		return
	}
	if c := l.Calibrator; c != nil {
		fmt.Fprintf(w, "\n%s %s %s (protocol %d, %s)\n", kindLabel(l.Kind), c.Name, c.Version, l.Protocol, l.Path)
		fmt.Fprintf(w, "  algorithm %s; statistics %s", c.Algorithm, c.Statistics)
		if c.Bins > 0 {
			fmt.Fprintf(w, " (%d bins)", c.Bins)
		}
		fmt.Fprintln(w)
		describe(w, c.Description)
		for _, o := range c.Options {
			option(w, o.Name, o.Default, o.Description)
		}
	} else {
		d := l.Dataset
		fmt.Fprintf(w, "\n%s %s %s (protocol %d, %s)\n", kindLabel(l.Kind), d.Name, d.Version, l.Protocol, l.Path)
		describe(w, d.Description)
		for _, o := range d.Options {
			option(w, o.Name, o.Default, o.Description)
		}
	}
	if l.SHA256 != "" {
		fmt.Fprintf(w, "  sha256 %s\n", l.SHA256)
	}
}

// kindLabel is a kind as the text output names it: "data set" for the
// programs named int8cal-batchstream-<name>, as everywhere users read
// (the JSON output and lock files keep the kind as the file prefix spells
// it, "batchstream").
func kindLabel(k pluginhost.Kind) string {
	if k == pluginhost.BatchStreamKind {
		return "data set"
	}
	return string(k)
}

func describe(w io.Writer, text string) {
	if text != "" {
		fmt.Fprintf(w, "  %s\n", text)
	}
}

func option(w io.Writer, name, def, desc string) {
	name = pluginhost.Clean(name, 256)
	if def == "" {
		fmt.Fprintf(w, "  option %s: %s\n", name, desc)
		return
	}
	fmt.Fprintf(w, "  option %s (default %q): %s\n", name, def, desc)
}

const lockFlagUsage = "plugin lock file (written by int8cal plugins --lock): plugins it does not list, or whose SHA-256 differs, are refused (default: " +
	pluginhost.DefaultLockName + " beside the int8cal binary, if there; \"" + pluginhost.NoLock + "\": no pinning)"
