package calibtable

import (
	"fmt"

	"github.com/int8cal/int8cal/internal/atomicfile"
)

// WriteFile writes t to path in the format of [Write], atomically: the table
// is validated first, then written to a new temporary file in the same
// directory, which is synced, given the permissions of the file it replaces
// (0644 for a new file) and renamed over path; the directory is then synced
// where the system allows it. If anything fails the temporary file is
// removed and an existing file at path is left as it was. If path is a
// symbolic link, the link itself is replaced.
func WriteFile(path string, t *Table) error {
	data, err := t.encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("calibtable: write %s: %w", path, err)
	}
	return nil
}
