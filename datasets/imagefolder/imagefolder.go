package imagefolder

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/int8cal/int8cal/datasets/preprocess"
)

// Options selects where labels come from, the channels images are decoded
// to and the preprocessing Read applies.
type Options struct {
	// Labels is a labels file ("path label" lines, or "path,label" CSV
	// when it ends in .csv); "" takes labels from class subfolders.
	Labels string
	// Unlabeled lists every image under the folder with label -1.
	Unlabeled bool
	// Channels is 3 (also when 0): RGB, grayscale replicated; or 1: gray.
	Channels int
	// Preprocess is applied by Read and Sample.
	Preprocess preprocess.Spec
}

// Folder is a listed image folder. Images are decoded on demand; a Folder
// holds only the paths and labels. Its methods may be called concurrently.
type Folder struct {
	dir      string
	paths    []string // as opened: joined with dir
	labels   []int
	classes  []string
	skipped  []string
	channels int
	spec     preprocess.Spec
	shape    []int
}

// Extensions are the file name endings listed as images (compared in lower
// case).
var Extensions = []string{".png", ".jpg", ".jpeg"}

func isImage(name string) bool {
	return slices.Contains(Extensions, strings.ToLower(filepath.Ext(name)))
}

// Open lists the images of dir and their labels as opts says (see the
// package documentation), checks the preprocessing against the channel
// count, and finds the sample shape (reading the header of image 0 unless
// the crop fixes it).
func Open(dir string, opts Options) (*Folder, error) {
	f := &Folder{dir: dir, channels: opts.Channels, spec: opts.Preprocess}
	if f.channels == 0 {
		f.channels = 3
	}
	if f.channels != 1 && f.channels != 3 {
		return nil, fmt.Errorf("imagefolder: channels %d: want 1 (gray) or 3 (RGB)", opts.Channels)
	}
	if err := f.spec.Validate(f.channels); err != nil {
		return nil, fmt.Errorf("imagefolder: %s: %v", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("imagefolder: %s is not a folder", dir)
	}
	switch {
	case opts.Labels != "" && opts.Unlabeled:
		return nil, fmt.Errorf("imagefolder: %s: a labels file (%s) and unlabeled are both asked for; choose one", dir, opts.Labels)
	case opts.Labels != "":
		err = f.listFile(opts.Labels)
	case opts.Unlabeled:
		err = f.listUnlabeled()
	default:
		err = f.listClasses()
	}
	if err != nil {
		return nil, err
	}
	if err := f.findShape(); err != nil {
		return nil, err
	}
	return f, nil
}

// Len returns the number of images.
func (f *Folder) Len() int { return len(f.paths) }

// Label returns the label of image i: its class index, the labels file's
// value, or -1 when unlabeled. It panics if i is out of range.
func (f *Folder) Label(i int) int { return f.labels[i] }

// Path returns the path of image i (dir joined with its relative path).
// It panics if i is out of range.
func (f *Folder) Path(i int) string { return f.paths[i] }

// Classes returns the class names, label k being Classes()[k], when labels
// come from subfolders; otherwise nil.
func (f *Folder) Classes() []string { return f.classes }

// Skipped returns the files left out of a folder listing for their
// extension, relative to dir, sorted; nil with a labels file.
func (f *Folder) Skipped() []string { return f.skipped }

// Channels returns the number of channels images are decoded to.
func (f *Folder) Channels() int { return f.channels }

// SampleShape returns the shape of one preprocessed sample: {C, H, W} or
// {H, W, C} as the preprocessing's layout says.
func (f *Folder) SampleShape() []int { return slices.Clone(f.shape) }

// Load decodes image i into raw values (see the package documentation).
func (f *Folder) Load(i int) (preprocess.Image, error) {
	if i < 0 || i >= len(f.paths) {
		return preprocess.Image{}, fmt.Errorf("imagefolder: image %d requested, %s holds %d", i, f.dir, len(f.paths))
	}
	data, err := os.ReadFile(f.paths[i])
	if err != nil {
		return preprocess.Image{}, fmt.Errorf("imagefolder: image %d (%s): %v", i, f.paths[i], unwrapPath(err))
	}
	img, err := Decode(data, f.channels)
	if err != nil {
		return preprocess.Image{}, fmt.Errorf("imagefolder: image %d (%s): %v", i, f.paths[i], err)
	}
	return img, nil
}

// unwrapPath drops the path from an *fs.PathError, which the caller names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Op, pe.Err)
	}
	return err
}

// Sample decodes and preprocesses image i into dst, which must hold one
// sample of SampleShape.
func (f *Folder) Sample(i int, dst []float32) error {
	img, err := f.Load(i)
	if err != nil {
		return err
	}
	shape := f.spec.OutputShape(img.H, img.W, img.C)
	if !slices.Equal(shape, f.shape) {
		return fmt.Errorf("imagefolder: image %d (%s): %dx%d (HxW) pixels give a sample of %s with %s, image 0 gives %s; set crop so that every image comes out the same size",
			i, f.paths[i], img.H, img.W, shapeString(shape), f.spec, shapeString(f.shape))
	}
	if err := f.spec.Apply(img, dst); err != nil {
		return fmt.Errorf("imagefolder: image %d (%s): %v", i, f.paths[i], err)
	}
	return nil
}

// Read decodes and preprocesses images [first, first+n) into images
// (n samples of SampleShape, one after the other) and their labels into
// labels, unless labels is nil.
func (f *Folder) Read(first, n int, images []float32, labels []int) error {
	if first < 0 || n < 0 || first > len(f.paths)-n {
		return fmt.Errorf("imagefolder: images [%d,%d) requested, %s holds %d", first, first+n, f.dir, len(f.paths))
	}
	vol := volume(f.shape)
	if len(images) < n*vol || labels != nil && len(labels) < n {
		return fmt.Errorf("imagefolder: Read of %d samples of %s needs %d values and %d labels, got room for %d and %d",
			n, shapeString(f.shape), n*vol, n, len(images), len(labels))
	}
	for k := range n {
		if err := f.Sample(first+k, images[k*vol:(k+1)*vol]); err != nil {
			return err
		}
		if labels != nil {
			labels[k] = f.labels[first+k]
		}
	}
	return nil
}

func volume(shape []int) int {
	v := 1
	for _, d := range shape {
		v *= d
	}
	return v
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

// findShape sets the sample shape: from the crop when it fixes both sides,
// else from the header of image 0.
func (f *Folder) findShape() error {
	if crop := f.spec.CenterCrop; crop[0] > 0 && crop[1] > 0 {
		f.shape = f.spec.OutputShape(crop[0], crop[1], f.channels) // the size the crop gives
		return nil
	}
	data, err := readHead(f.paths[0])
	if err != nil {
		return fmt.Errorf("imagefolder: image 0 (%s): %v", f.paths[0], err)
	}
	_, w, h, err := config(data)
	if err != nil {
		return fmt.Errorf("imagefolder: image 0 (%s): %v", f.paths[0], err)
	}
	f.shape = f.spec.OutputShape(h, w, f.channels)
	return nil
}

// readHead reads the start of a file, enough for its image header.
func readHead(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer file.Close()
	// A JPEG's frame header can follow large EXIF data; 1 MiB covers
	// practically every file, and a truncated read is reported by size.
	return io.ReadAll(io.LimitReader(file, 1<<20))
}

// listClasses lists dir/<class>/... images.
func (f *Folder) listClasses() error {
	entries, err := os.ReadDir(f.dir) // sorted by name
	if err != nil {
		return fmt.Errorf("imagefolder: %w", err)
	}
	var loose []string
	for _, e := range entries {
		if hidden(e.Name()) {
			continue
		}
		full := filepath.Join(f.dir, e.Name())
		isDir, err := dirEntryIsDir(full, e)
		if err != nil {
			return fmt.Errorf("imagefolder: %v", err)
		}
		if !isDir {
			loose = append(loose, e.Name())
			continue
		}
		f.classes = append(f.classes, e.Name())
	}
	if len(f.classes) == 0 {
		n := 0
		for _, name := range loose {
			if isImage(name) {
				n++
			}
		}
		hint := ""
		if n > 0 {
			hint = fmt.Sprintf("; it holds %d images directly: put them in one folder per class, give a labels file, or open it unlabeled", n)
		}
		return fmt.Errorf("imagefolder: %s: no class subfolders (want %s/<class>/<image>.png|.jpg|.jpeg, as torchvision's ImageFolder)%s", f.dir, f.dir, hint)
	}
	for k, class := range f.classes {
		found, skipped, err := walk(f.dir, class)
		if err != nil {
			return err
		}
		f.skipped = append(f.skipped, skipped...)
		if len(found) == 0 {
			return fmt.Errorf("imagefolder: class folder %s holds no PNG or JPEG images%s; class indices follow the sorted folder names, so an empty class would shift the rest: add images or remove it",
				filepath.Join(f.dir, class), skippedNote(skipped))
		}
		for _, rel := range found {
			f.paths = append(f.paths, filepath.Join(f.dir, rel))
			f.labels = append(f.labels, k)
		}
	}
	slices.Sort(f.skipped)
	return nil
}

// listUnlabeled lists every image under dir.
func (f *Folder) listUnlabeled() error {
	found, skipped, err := walk(f.dir, "")
	if err != nil {
		return err
	}
	f.skipped = skipped
	slices.Sort(f.skipped)
	if len(found) == 0 {
		return fmt.Errorf("imagefolder: %s holds no PNG or JPEG images%s", f.dir, skippedNote(skipped))
	}
	for _, rel := range found {
		f.paths = append(f.paths, filepath.Join(f.dir, rel))
		f.labels = append(f.labels, -1)
	}
	return nil
}

// skippedNote summarizes skipped files by extension.
func skippedNote(skipped []string) string {
	if len(skipped) == 0 {
		return ""
	}
	count := map[string]int{}
	for _, s := range skipped {
		ext := strings.ToLower(filepath.Ext(s))
		if ext == "" {
			ext = "no extension"
		}
		count[ext]++
	}
	var parts []string
	for _, ext := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%d %s", count[ext], ext))
	}
	files := "files"
	if len(skipped) == 1 {
		files = "file"
	}
	return fmt.Sprintf(" (skipped %d other %s: %s; only %s are read)", len(skipped), files, strings.Join(parts, ", "), strings.Join(Extensions, " "))
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// dirEntryIsDir reports whether e (at full) is a folder, following a
// symbolic link.
func dirEntryIsDir(full string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	st, err := os.Stat(full)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// walk lists the images under root/sub, following symbolic links, in
// torchvision's order: by directory, then by file name. Paths are relative
// to root. Files with other extensions are returned as skipped.
func walk(root, sub string) (found, skipped []string, err error) {
	type file struct{ dir, name string }
	var files []file
	var visit func(rel string, ancestors []os.FileInfo) error
	visit = func(rel string, ancestors []os.FileInfo) error {
		full := filepath.Join(root, rel)
		st, err := os.Stat(full)
		if err != nil {
			return fmt.Errorf("imagefolder: %w", err)
		}
		for _, a := range ancestors {
			if os.SameFile(a, st) {
				return fmt.Errorf("imagefolder: %s: symbolic link loop: it leads back to a folder that contains it", full)
			}
		}
		entries, err := os.ReadDir(full)
		if err != nil {
			return fmt.Errorf("imagefolder: %w", err)
		}
		ancestors = append(ancestors, st)
		for _, e := range entries {
			if hidden(e.Name()) {
				continue
			}
			childRel := filepath.Join(rel, e.Name())
			isDir, err := dirEntryIsDir(filepath.Join(root, childRel), e)
			if err != nil {
				return fmt.Errorf("imagefolder: %v", err)
			}
			switch {
			case isDir:
				if err := visit(childRel, slices.Clip(ancestors)); err != nil {
					return err
				}
			case isImage(e.Name()):
				files = append(files, file{filepath.ToSlash(rel), e.Name()})
			default:
				skipped = append(skipped, childRel)
			}
		}
		return nil
	}
	if err := visit(sub, nil); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := strings.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, fl := range files {
		found = append(found, filepath.Join(filepath.FromSlash(fl.dir), fl.name))
	}
	return found, skipped, nil
}

// listFile reads a labels file.
func (f *Folder) listFile(path string) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("imagefolder: labels file: %w", err)
	}
	defer file.Close()
	type entry struct {
		line  int
		path  string
		label string
	}
	var entries []entry
	isCSV := strings.EqualFold(filepath.Ext(path), ".csv")
	if isCSV {
		r := csv.NewReader(bufio.NewReader(file))
		r.FieldsPerRecord = -1
		r.TrimLeadingSpace = true
		first := true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("imagefolder: %s: %v", path, err)
			}
			line, _ := r.FieldPos(0)
			if len(rec) != 2 {
				return fmt.Errorf("imagefolder: %s:%d: %d fields, want 2: path,label", path, line, len(rec))
			}
			if first {
				first = false
				if _, err := strconv.Atoi(strings.TrimSpace(rec[1])); err != nil {
					continue // a header row
				}
			}
			entries = append(entries, entry{line, rec[0], rec[1]})
		}
	} else {
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			cut := strings.LastIndexAny(text, " \t")
			if cut < 0 {
				return fmt.Errorf("imagefolder: %s:%d: %q has no label; want lines `relative/path label` (label a non-negative integer), or a .csv file of path,label", path, line, text)
			}
			entries = append(entries, entry{line, strings.TrimRight(text[:cut], " \t"), text[cut+1:]})
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("imagefolder: %s: %v", path, err)
		}
	}
	if len(entries) == 0 {
		return fmt.Errorf("imagefolder: labels file %s lists no images", path)
	}
	seen := map[string]int{}
	for _, e := range entries {
		label, err := strconv.Atoi(strings.TrimSpace(e.label))
		if err != nil || label < 0 {
			return fmt.Errorf("imagefolder: %s:%d: label %q of %s is not a non-negative integer", path, e.line, e.label, e.path)
		}
		if e.path == "" {
			return fmt.Errorf("imagefolder: %s:%d: empty path", path, e.line)
		}
		full := e.path
		if !filepath.IsAbs(full) {
			full = filepath.Join(f.dir, filepath.FromSlash(e.path))
		}
		if prev, ok := seen[full]; ok {
			return fmt.Errorf("imagefolder: %s:%d: %s is listed again (first on line %d)", path, e.line, e.path, prev)
		}
		seen[full] = e.line
		if !isImage(full) {
			return fmt.Errorf("imagefolder: %s:%d: %s: extension %q is not supported (want %s)", path, e.line, e.path, filepath.Ext(full), strings.Join(Extensions, " "))
		}
		st, err := os.Stat(full)
		if err != nil {
			return fmt.Errorf("imagefolder: %s:%d: %v", path, e.line, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("imagefolder: %s:%d: %s is not a regular file", path, e.line, full)
		}
		f.paths = append(f.paths, full)
		f.labels = append(f.labels, label)
	}
	return nil
}
