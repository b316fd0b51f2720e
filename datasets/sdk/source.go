package sdk

import (
	"errors"
	"io"

	"github.com/int8cal/int8cal/datasets/dataset"
)

// Source is the shape of int8cal's readers (datasets/mnist, npy arrays,
// image folders, batch files): labelled samples of one shape.
type Source interface {
	Len() int
	SampleShape() []int
	Read(first, n int, images []float32, labels []int) error
}

// OpenFunc builds a Source from the user's options and says whether its
// samples carry labels and, when known, how many classes there are.
type OpenFunc func(options map[string]string) (src Source, labels bool, classes int, err error)

// FromSource makes a dataset.BatchStream of a reader: most data set
// plugins are this plus their OpenFunc.
func FromSource(info dataset.Info, open OpenFunc) dataset.BatchStream {
	return &sourceStream{info: info, open: open}
}

type sourceStream struct {
	info   dataset.Info
	open   OpenFunc
	src    Source
	labels []int
}

func (s *sourceStream) Info() dataset.Info { return s.info }

func (s *sourceStream) Open(options map[string]string) (dataset.Meta, error) {
	s.src = nil
	src, labels, classes, err := s.open(options)
	if err != nil {
		return dataset.Meta{}, err
	}
	s.src = src
	return dataset.Meta{Samples: src.Len(), SampleShape: src.SampleShape(), Labels: labels, Classes: classes}, nil
}

func (s *sourceStream) Read(first, n int, images []float32, labels []int32) error {
	if s.src == nil {
		return errors.New(s.info.Name + ": not open")
	}
	var ls []int
	if labels != nil {
		if cap(s.labels) < n {
			s.labels = make([]int, n)
		}
		ls = s.labels[:n]
	}
	if err := s.src.Read(first, n, images, ls); err != nil {
		return err
	}
	for i, l := range ls {
		labels[i] = int32(l)
	}
	return nil
}

// Close closes the source when it holds files open (an io.Closer).
func (s *sourceStream) Close() error {
	src := s.src
	s.src = nil
	if c, ok := src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
