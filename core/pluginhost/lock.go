package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/internal/atomicfile"
)

// A lock file pins plugins to the programs they were when it was written:
// `int8cal plugins --lock FILE` records the SHA-256 of each plugin found,
// and a command run with --plugin-lock FILE (or finding DefaultLockName
// beside the int8cal binary) refuses a plugin that the file does not list
// or whose program now hashes otherwise. The hash is checked right before
// the program starts (go-plugin's SecureConfig).
//
// The file is JSON:
//
//	{
//	  "format": "int8cal-plugin-lock",
//	  "version": 1,
//	  "plugins": [
//	    {"kind": "calibrator", "name": "entropy2", "sha256": "<64 hex digits>", "path": "/opt/int8cal/bin/int8cal-calibrator-entropy2"}
//	  ]
//	}
//
// Plugins are keyed by kind and name; path says where the program was
// when recorded and is not checked (the same program elsewhere on the
// search path is the same program).
const (
	LockFormat      = "int8cal-plugin-lock"
	LockVersion     = 1
	DefaultLockName = "int8cal-plugins.lock"
	// NoLock, given as the lock file, turns pinning off, the default lock
	// file included.
	NoLock = "none"
	// maxLockBytes bounds the lock file read.
	maxLockBytes = 4 << 20
)

// Lock is a lock file's content.
type Lock struct {
	// File is where it was read from or is written to.
	File    string      `json:"-"`
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Plugins []LockEntry `json:"plugins"`
}

// LockEntry pins one plugin.
type LockEntry struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Path   string `json:"path,omitempty"`
}

// NewLock returns an empty lock to be written to file.
func NewLock(file string) *Lock {
	return &Lock{File: file, Format: LockFormat, Version: LockVersion, Plugins: []LockEntry{}}
}

// DefaultLockPath is DefaultLockName in the directory of the running
// executable, or "" when that is unknown.
func DefaultLockPath() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), DefaultLockName)
}

// LoadLock returns the lock in force: none for NoLock; the file named,
// which must exist; or, for "", the default lock file when it exists.
func LoadLock(file string) (*Lock, error) {
	switch file {
	case NoLock:
		return nil, nil
	case "":
		file = DefaultLockPath()
		if file == "" {
			return nil, nil
		}
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return ReadLock(file)
}

// ReadLock reads and checks a lock file.
func ReadLock(file string) (*Lock, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("plugin lock file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLockBytes+1))
	if err != nil {
		return nil, fmt.Errorf("plugin lock file %s: %w", file, err)
	}
	if len(data) > maxLockBytes {
		return nil, fmt.Errorf("plugin lock file %s: larger than %d bytes", file, maxLockBytes)
	}
	l, err := ParseLock(data)
	if err != nil {
		return nil, fmt.Errorf("plugin lock file %s: %w", file, err)
	}
	l.File = file
	return l, nil
}

// ParseLock decodes and checks a lock file's bytes.
func ParseLock(data []byte) (*Lock, error) {
	var l Lock
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("not a plugin lock file: %v", err)
	}
	if dec.More() {
		return nil, errors.New("not a plugin lock file: data after the JSON object")
	}
	if l.Format != LockFormat {
		return nil, fmt.Errorf("format %q, want %q", l.Format, LockFormat)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("version %d; this int8cal reads version %d", l.Version, LockVersion)
	}
	seen := map[string]bool{}
	for i, e := range l.Plugins {
		switch {
		case e.Kind != CalibratorKind && e.Kind != BatchStreamKind:
			return nil, fmt.Errorf("plugin %d: unknown kind %q", i, e.Kind)
		case e.Name == "" || strings.ContainsAny(e.Name, "/\\\x00"):
			return nil, fmt.Errorf("plugin %d: bad name %q", i, e.Name)
		case !isSHA256(e.SHA256):
			return nil, fmt.Errorf("%s %s: sha256 %q is not 64 hex digits", e.Kind, e.Name, e.SHA256)
		case seen[string(e.Kind)+"/"+e.Name]:
			return nil, fmt.Errorf("%s %s: listed twice", e.Kind, e.Name)
		}
		seen[string(e.Kind)+"/"+e.Name] = true
	}
	return &l, nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// Pin returns f with the hash the lock records for it, or an error when
// the lock does not list it. A nil lock pins nothing.
func (l *Lock) Pin(f Found) (Found, error) {
	if l == nil {
		return f, nil
	}
	for _, e := range l.Plugins {
		if e.Kind == f.Kind && e.Name == f.Name {
			f.SHA256, f.LockFile = strings.ToLower(e.SHA256), l.File
			return f, nil
		}
	}
	return f, fmt.Errorf("%s plugin %q (%s) is not listed in the plugin lock file %s; refusing to run it (record it with `int8cal plugins --lock %s`, or pass --plugin-lock %s to run unpinned)",
		f.Kind, f.Name, f.Path, l.File, l.File, NoLock)
}

// Add records f's program under its hash, replacing an entry of the same
// kind and name.
func (l *Lock) Add(f Found, sum string) {
	e := LockEntry{Kind: f.Kind, Name: f.Name, SHA256: sum, Path: f.Path}
	for i := range l.Plugins {
		if l.Plugins[i].Kind == f.Kind && l.Plugins[i].Name == f.Name {
			l.Plugins[i] = e
			return
		}
	}
	l.Plugins = append(l.Plugins, e)
}

// Write writes the lock to its File atomically, plugins sorted by kind
// and name.
func (l *Lock) Write() error {
	slices.SortFunc(l.Plugins, func(a, b LockEntry) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(l.File, append(data, '\n')); err != nil {
		return fmt.Errorf("plugin lock file %s: %w", l.File, err)
	}
	return nil
}
