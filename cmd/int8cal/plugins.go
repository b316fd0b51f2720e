package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/internal/filehash"
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
	if err := parse(fs, args, stdout, stderr); err != nil {
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
	calibrators := pluginhost.Find(pluginhost.CalibratorKind, dirs)
	datasets := pluginhost.Find(pluginhost.BatchStreamKind, dirs)
	fmt.Fprintf(stdout, "Searched: %s\n", strings.Join(dirs, ", "))
	if lock != nil {
		fmt.Fprintf(stdout, "Plugin lock: %s\n", lock.File)
	}
	if len(calibrators)+len(datasets) == 0 {
		fmt.Fprintln(stdout, "No plugins found; `make` builds the bundled ones into bin/.")
	}
	// prepare pins f: by the lock in force, or, when recording, to the
	// program's hash now (so what is recorded is what was started).
	prepare := func(f pluginhost.Found) (pluginhost.Found, error) {
		if record == nil {
			return lock.Pin(f)
		}
		sum, err := filehash.SHA256(f.Path)
		if err != nil {
			return f, err
		}
		f.SHA256 = sum
		return f, nil
	}
	recorded := func(f pluginhost.Found) {
		if record != nil {
			record.Add(f, f.SHA256)
		}
	}
	for _, f := range calibrators {
		f, err := prepare(f)
		var c *pluginhost.Calibrator
		if err == nil {
			c, err = pluginhost.StartCalibrator(f, log)
		}
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
		pinned(stdout, f)
		c.Close()
		recorded(f)
	}
	for _, f := range datasets {
		f, err := prepare(f)
		var b *pluginhost.BatchStream
		if err == nil {
			b, err = pluginhost.StartBatchStream(f, log)
		}
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
		pinned(stdout, f)
		b.Close()
		recorded(f)
	}
	if record != nil {
		if err := record.Write(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nRecorded %d plugin(s) in %s\n", len(record.Plugins), record.File)
	}
	return nil
}

func pinned(w io.Writer, f pluginhost.Found) {
	if f.SHA256 != "" {
		fmt.Fprintf(w, "  sha256 %s\n", f.SHA256)
	}
}

func unusable(w io.Writer, f pluginhost.Found, err error) {
	fmt.Fprintf(w, "\n%s %s (%s)\n  unusable: %s\n", f.Kind, f.Name, f.Path, pluginhost.Clean(err.Error(), 4*pluginhost.MaxErrorText))
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

const lockFlagUsage = "plugin lock file (from `int8cal plugins --lock`): plugins it does not list, or whose SHA-256 differs, are refused (default: " +
	pluginhost.DefaultLockName + " beside the int8cal binary, if there; \"" + pluginhost.NoLock + "\": no pinning)"
