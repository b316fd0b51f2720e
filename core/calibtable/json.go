package calibtable

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonTable is the JSON form written by WriteJSON.
type jsonTable struct {
	Header     string      `json:"header"`
	Version    string      `json:"version"`
	Algorithm  string      `json:"algorithm"`
	TRTVersion string      `json:"trt_version,omitempty"`
	Tensors    []jsonEntry `json:"tensors"`
}

type jsonEntry struct {
	Name  string    `json:"name"`
	Amax  jsonFloat `json:"amax"`
	Scale jsonFloat `json:"scale"`
	Hex   string    `json:"hex"`
}

// jsonFloat writes the shortest decimal that reads back as the same
// float32. Valid tables hold only finite amax and scale values.
type jsonFloat float32

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 32), nil
}

// WriteJSON writes t as an indented JSON object:
//
//	{
//	  "header": "TRT-7000-EntropyCalibration2",
//	  "version": "7000",
//	  "algorithm": "EntropyCalibration2",
//	  "trt_version": "7.0.0",
//	  "tensors": [
//	    {
//	      "name": "data",
//	      "amax": 0.9963379,
//	      "scale": 0.00784518,
//	      "hex": "3c008912"
//	    },
//	    ...
//	  ]
//	}
//
// followed by a newline. trt_version is present when the header version
// decodes with [ParseHeaderVersion]. amax is [Entry.Amax] and scale is
// [Entry.Scale], both as the shortest decimal that reads back as the same
// float32; hex is the exact cache value. The table is validated first
// (scales included, so every number is finite) and nothing is written if
// it fails; JSON strings are Unicode, so WriteJSON also refuses a table whose
// header fields or tensor names are not valid UTF-8 (the text format takes
// any bytes).
func WriteJSON(w io.Writer, t *Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := checkUTF8(t); err != nil {
		return err
	}
	jt := jsonTable{
		Header:    t.Header(),
		Version:   t.Version,
		Algorithm: t.Algorithm,
		Tensors:   make([]jsonEntry, len(t.Entries)),
	}
	if v, err := ParseHeaderVersion(t.Version); err == nil {
		jt.TRTVersion = v.String()
	}
	for i, e := range t.Entries {
		jt.Tensors[i] = jsonEntry{Name: e.Name, Amax: jsonFloat(e.Amax()), Scale: jsonFloat(e.Scale), Hex: e.Hex()}
	}
	b, err := json.MarshalIndent(jt, "", "  ")
	if err != nil {
		return fmt.Errorf("calibtable: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("calibtable: write: %w", err)
	}
	return nil
}

// ReadJSON reads the form written by [WriteJSON]. The header comes from
// "version" and "algorithm", or from "header" when both are absent. A
// tensor's value comes from "hex" when present (it is exact), else from
// "scale", else from "amax" through [ScaleFromAmax]; one of them is required.
// Unknown fields are ignored. The table must pass [Table.Validate] (its
// scales included), and the input must not exceed [MaxSize] bytes.
func ReadJSON(r io.Reader) (*Table, error) {
	var in struct {
		Header    string `json:"header"`
		Version   string `json:"version"`
		Algorithm string `json:"algorithm"`
		Tensors   []struct {
			Name  string   `json:"name"`
			Amax  *float64 `json:"amax"`
			Scale *float64 `json:"scale"`
			Hex   string   `json:"hex"`
		} `json:"tensors"`
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("calibtable: json: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("calibtable: json: the input goes on past %d bytes, more than a calibration table of a million tensors", MaxSize)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("calibtable: json: %w", err)
	}
	t := &Table{Version: in.Version, Algorithm: in.Algorithm}
	if t.Version == "" && t.Algorithm == "" && in.Header != "" {
		v, a, msg := parseHeader(in.Header)
		if msg != "" {
			return nil, fmt.Errorf("calibtable: json: bad header %q: %s", in.Header, msg)
		}
		t.Version, t.Algorithm = v, a
	}
	t.Entries = make([]Entry, 0, len(in.Tensors))
	for i, e := range in.Tensors {
		var scale float32
		switch {
		case e.Hex != "":
			bits, ok := parseHex(e.Hex)
			if !ok {
				return nil, fmt.Errorf("calibtable: json: tensor %d %q: bad hex %q; want 1 to 8 hex digits", i, e.Name, e.Hex)
			}
			scale = math.Float32frombits(bits)
		case e.Scale != nil:
			scale = float32(*e.Scale)
		case e.Amax != nil:
			scale = ScaleFromAmax(float32(*e.Amax))
		default:
			return nil, fmt.Errorf("calibtable: json: tensor %d %q: %w", i, e.Name, errNoValue)
		}
		t.Entries = append(t.Entries, Entry{Name: e.Name, Scale: scale})
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// checkUTF8 reports a string that JSON would not carry unchanged.
func checkUTF8(t *Table) error {
	if !utf8.ValidString(t.Version) || !utf8.ValidString(t.Algorithm) {
		return fmt.Errorf("calibtable: json: header %q is not valid UTF-8", t.Header())
	}
	for i, e := range t.Entries {
		if !utf8.ValidString(e.Name) {
			return fmt.Errorf("calibtable: json: entry %d: tensor name %q is not valid UTF-8", i, e.Name)
		}
	}
	return nil
}

var errNoValue = errors.New("no hex, scale or amax")
