package pluginhost

import (
	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/filehash"
)

// Listed is one plugin found by [Survey]: what it says of itself, or why
// it cannot be used.
type Listed struct {
	Found // SHA256 is the pinned hash, or the recorded one when recording
	// Err says why the plugin cannot be used (its start, its handshake,
	// its name, the lock); the fields below are then empty.
	Err      error
	Protocol int
	// Exactly one of these is set for a usable plugin, by its Kind.
	Calibrator *calib.Info
	Dataset    *dataset.Info
}

// Survey finds the calibrators, then the data sets, of dirs, starts each
// (pinned by lock, which may be nil), asks for its Info and stops it. With
// record set, the lock in force is not applied: each usable plugin's hash
// is taken before it starts and added to record, so what is recorded is
// what ran; record is not written.
func Survey(dirs []string, lock, record *Lock, log hclog.Logger) []Listed {
	var out []Listed
	for _, kind := range []Kind{CalibratorKind, BatchStreamKind} {
		for _, f := range Find(kind, dirs) {
			l := surveyOne(f, lock, record, log)
			if l.Err == nil && record != nil {
				record.Add(l.Found, l.SHA256)
			}
			out = append(out, l)
		}
	}
	return out
}

func surveyOne(f Found, lock, record *Lock, log hclog.Logger) Listed {
	var err error
	if record == nil {
		f, err = lock.Pin(f)
	} else {
		f.SHA256, err = filehash.SHA256(f.Path)
	}
	if err != nil {
		return Listed{Found: f, Err: err}
	}
	if f.Kind == CalibratorKind {
		c, err := StartCalibrator(f, log)
		if err != nil {
			return Listed{Found: f, Err: err}
		}
		defer c.Close()
		return Listed{Found: f, Protocol: c.Protocol, Calibrator: &c.Info}
	}
	b, err := StartBatchStream(f, log)
	if err != nil {
		return Listed{Found: f, Err: err}
	}
	defer b.Close()
	return Listed{Found: f, Protocol: b.Protocol, Dataset: &b.Info}
}
