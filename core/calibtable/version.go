package calibtable

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// TRTVersion is a TensorRT release number major.minor.patch.build.
type TRTVersion struct {
	Major, Minor, Patch, Build int
}

// String returns "major.minor.patch", followed by ".build" when Build is not
// zero.
func (v TRTVersion) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Build != 0 {
		s += "." + strconv.Itoa(v.Build)
	}
	return s
}

// HeaderVersion returns the version number that TensorRT v writes into the
// cache header, as HeaderVersion(v.Major, v.Minor, v.Patch, v.Build) does.
func (v TRTVersion) HeaderVersion() string {
	return HeaderVersion(v.Major, v.Minor, v.Patch, v.Build)
}

// LegacyVersionNumber is NV_TENSORRT_VERSION of TensorRT 9.x and earlier:
// major*1000 + minor*100 + patch (kNV_TENSORRT_VERSION_IMPL,
// NVIDIA/TensorRT@v8.6.1 include/NvInferRuntimeBase.h; anchors §1.3).
// 8.6.1 gives 8601.
func LegacyVersionNumber(major, minor, patch int) int {
	return major*1000 + minor*100 + patch
}

// VersionNumberInt is NV_TENSORRT_VERSION of TensorRT 10.0 and later:
// NV_TENSORRT_VERSION_INT(major, minor, patch) = major*10000 + minor*100 +
// patch (NVIDIA/TensorRT@v10.0.0 include/NvInferRuntimeBase.h; anchors §1.3).
// 10.3.0 gives 100300.
func VersionNumberInt(major, minor, patch int) int {
	return major*10000 + minor*100 + patch
}

// HeaderVersion returns the decimal version number of the cache header
// "TRT-<version>-<algorithm>" for TensorRT major.minor.patch.build: the
// [LegacyVersionNumber] encoding when major < 10 and the [VersionNumberInt]
// encoding otherwise (anchors §1.3, §9). build is accepted for convenience
// and ignored: neither TensorRT macro includes it. Like the C macros it does
// no range checks; minor above 9 (major < 10) or above 99, or patch above
// 99, gives a number that decodes to another version. [ParseTRTVersion]
// rejects such versions.
func HeaderVersion(major, minor, patch, build int) string {
	_ = build
	if major < 10 {
		return strconv.Itoa(LegacyVersionNumber(major, minor, patch))
	}
	return strconv.Itoa(VersionNumberInt(major, minor, patch))
}

// ParseTRTVersion reads a TensorRT version as given on a command line
// (--trt-version). It accepts
//
//   - dotted versions with one to four numbers: "10" (10.0.0), "10.3"
//     (10.3.0), "8.6.1", "8.6.1.6" (build 6), with an optional leading "v";
//   - a cache header number of four or more digits, "8601" or "100300", and
//     the header prefix "TRT-8601" (see [ParseHeaderVersion]).
//
// Surrounding white space is ignored. The major version must be at least 1,
// the patch at most 99 and the minor at most 9 for TensorRT before 10 and at
// most 99 from 10 on, so that the header number identifies the version.
func ParseTRTVersion(s string) (TRTVersion, error) {
	orig := s
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, headerPrefix); ok {
		v, err := ParseHeaderVersion(rest)
		if err != nil {
			return TRTVersion{}, fmt.Errorf("calibtable: TensorRT version %q: %w", orig, err)
		}
		return v, nil
	}
	if !strings.Contains(s, ".") && len(s) >= 4 {
		v, err := ParseHeaderVersion(s)
		if err != nil {
			return TRTVersion{}, fmt.Errorf("calibtable: TensorRT version %q: %w", orig, err)
		}
		return v, nil
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return TRTVersion{}, fmt.Errorf("calibtable: TensorRT version %q: want major[.minor[.patch[.build]]], e.g. 8.6.1 or 10.3", orig)
	}
	var nums [4]int
	for i, p := range parts {
		n, err := parseDecimal(p)
		if err != nil {
			return TRTVersion{}, fmt.Errorf("calibtable: TensorRT version %q: want major[.minor[.patch[.build]]], e.g. 8.6.1 or 10.3", orig)
		}
		nums[i] = n
	}
	v := TRTVersion{Major: nums[0], Minor: nums[1], Patch: nums[2], Build: nums[3]}
	if err := v.check(); err != nil {
		return TRTVersion{}, fmt.Errorf("calibtable: TensorRT version %q: %w", orig, err)
	}
	return v, nil
}

// ParseHeaderVersion decodes the version number of a cache header ("8601" in
// "TRT-8601-EntropyCalibration2"): four digits are the TensorRT <= 9.x
// encoding (8601 is 8.6.1), six or more the TensorRT >= 10 encoding (100300
// is 10.3.0). Five digits, or fewer than four, are neither. The build number
// is not in the header and is returned as 0.
func ParseHeaderVersion(s string) (TRTVersion, error) {
	n, err := parseDecimal(s)
	if err != nil {
		return TRTVersion{}, fmt.Errorf("header version %q is not a decimal number", s)
	}
	var v TRTVersion
	switch {
	case n >= 1000 && n <= 9999:
		v = TRTVersion{Major: n / 1000, Minor: n / 100 % 10, Patch: n % 100}
	case n >= 100000:
		v = TRTVersion{Major: n / 10000, Minor: n / 100 % 100, Patch: n % 100}
	default:
		return TRTVersion{}, fmt.Errorf("header version %q: want major*1000+minor*100+patch (TensorRT <= 9, 4 digits) or major*10000+minor*100+patch (TensorRT >= 10, 6 digits)", s)
	}
	return v, nil
}

// TRTVersion decodes the table's header version with [ParseHeaderVersion].
func (t *Table) TRTVersion() (TRTVersion, error) {
	v, err := ParseHeaderVersion(t.Version)
	if err != nil {
		return TRTVersion{}, fmt.Errorf("calibtable: %w", err)
	}
	return v, nil
}

// check reports whether the version's header number decodes to it.
func (v TRTVersion) check() error {
	maxMinor := 9
	if v.Major >= 10 {
		maxMinor = 99
	}
	switch {
	case v.Major < 1:
		return errors.New("major version must be at least 1")
	case v.Minor > maxMinor:
		return fmt.Errorf("minor version %d does not fit the header encoding (at most %d for TensorRT %d)", v.Minor, maxMinor, v.Major)
	case v.Patch > 99:
		return fmt.Errorf("patch version %d does not fit the header encoding (at most 99)", v.Patch)
	}
	return nil
}

// parseDecimal parses a non-empty string of ASCII digits (no sign) that fits
// an int32.
func parseDecimal(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a digit")
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return int(n), err
}
