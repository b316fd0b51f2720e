package layererr

import (
	"fmt"
	"slices"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
)

// Layer is one node the INT8 engine runs with an integer kernel.
type Layer struct {
	// Node and Op are the ONNX node's name and operator type.
	Node string `json:"node"`
	Op   string `json:"op"`
	// Output is the node's (first) output tensor, where it is compared.
	Output string `json:"output"`
	// Inputs are the activation tensors it quantizes, whose scales the
	// table gives.
	Inputs []string `json:"inputs"`
}

// Options configure a Comparer.
type Options struct {
	// Scales are the per-tensor activation scales of the table (amax/127).
	Scales map[string]float32
	// Workers is the number of goroutines kernels use; 0 means one per CPU.
	Workers int
	// Exclude keeps the nodes it matches in FP32 (mixed precision): they
	// are not layers of the comparison, and stay FP32 in the INT8 run.
	Exclude precision.Exclusions
}

// Comparer runs FP32 and INT8 side by side, batch by batch (Add), and
// reports per layer (Report). It is not safe for concurrent use.
type Comparer struct {
	g    *graph.Graph
	opts Options

	layers           []Layer
	fp32, int8       *engine.Engine
	acc, alone       []Metrics   // per layer, at its output
	model            []Metrics   // per model output, every layer quantized
	aloneModel       [][]Metrics // per layer, per model output
	outputs          []string    // the model's float outputs
	batches, samples int
}

// New returns a Comparer of g's FP32 and INT8 runs with opts.Scales.
func New(g *graph.Graph, opts Options) *Comparer {
	return &Comparer{g: g, opts: opts,
		fp32: engine.New(g, engine.Options{Workers: opts.Workers}),
		int8: engine.New(g, engine.Options{Workers: opts.Workers, Precision: precision.INT8, Int8Scales: opts.Scales, Exclude: opts.Exclude}),
	}
}

// Layers lists the nodes the INT8 engine quantizes for inputs of the
// given shapes, in graph order, as an observed INT8 plan with opts.Scales
// and opts.Exclude reports them (engine.Plan.Int8Layers): those with an
// INT8 kernel whose quantized inputs all have a usable scale.
func Layers(g *graph.Graph, shapes map[string][]int, opts Options) ([]Layer, error) {
	p, err := engine.New(g, engine.Options{Workers: opts.Workers, Precision: precision.INT8, Int8Scales: opts.Scales, Exclude: opts.Exclude}).Plan(shapes, true)
	if err != nil {
		return nil, err
	}
	var layers []Layer
	for _, l := range p.Int8Layers() {
		layers = append(layers, Layer{Node: l.Node.Name, Op: l.Node.OpType, Output: l.Node.Outputs[0], Inputs: l.Inputs})
	}
	return layers, nil
}

// Add runs one batch in FP32, in INT8 with every scale, and once per
// quantized layer with that layer's scales only, and accumulates the
// errors. The first batch fixes the layers; later ones must have the same
// shapes.
func (c *Comparer) Add(inputs map[string]*tensor.Tensor) error {
	if c.layers == nil {
		if err := c.start(inputs); err != nil {
			return err
		}
	}
	// The observer's tensors are reused within the run: the references
	// needed later are copied.
	ref := map[string][]float32{}
	for _, l := range c.layers {
		ref[l.Output] = nil
	}
	refOut, err := run(c.fp32, inputs, func(name string, t *tensor.Tensor) error {
		if _, ok := ref[name]; ok && t.DType.IsFloat() {
			ref[name] = slices.Clone(t.F32)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("the FP32 run: %w", err)
	}
	index := map[string][]int{} // output tensor → layers producing it (one, unless a node repeats)
	for i, l := range c.layers {
		index[l.Output] = append(index[l.Output], i)
	}
	out, err := run(c.int8, inputs, func(name string, t *tensor.Tensor) error {
		for _, i := range index[name] {
			if err := c.acc[i].Add(name, ref[name], t.F32); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("the INT8 run: %w", err)
	}
	if err := c.addOutputs(c.model, refOut, out); err != nil {
		return err
	}
	for i, l := range c.layers {
		alone := map[string]float32{}
		for _, name := range l.Inputs {
			alone[name] = c.opts.Scales[name]
		}
		e := engine.New(c.g, engine.Options{Workers: c.opts.Workers, Precision: precision.INT8, Int8Scales: alone})
		out, err := run(e, inputs, func(name string, t *tensor.Tensor) error {
			if name != l.Output {
				return nil
			}
			return c.alone[i].Add(name, ref[name], t.F32)
		})
		if err != nil {
			return fmt.Errorf("the INT8 run of node %q alone: %w", l.Node, err)
		}
		if err := c.addOutputs(c.aloneModel[i], refOut, out); err != nil {
			return err
		}
	}
	c.batches++
	if s := inputs[c.g.Inputs[0].Name].Shape; len(s) > 0 {
		c.samples += s[0]
	}
	return nil
}

// start finds the layers for the first batch's shapes.
func (c *Comparer) start(inputs map[string]*tensor.Tensor) error {
	shapes := map[string][]int{}
	for name, t := range inputs {
		shapes[name] = t.Shape
	}
	layers, err := Layers(c.g, shapes, c.opts)
	if err != nil {
		return err
	}
	if len(layers) == 0 {
		return fmt.Errorf("no node has an INT8 kernel and scales for the inputs it quantizes: the table names none of the inputs of the model's Conv, ConvTranspose, Gemm and MatMul nodes (is it the table of another model?)")
	}
	for _, o := range c.g.Outputs {
		if o.DType.IsFloat() {
			c.outputs = append(c.outputs, o.Name)
		}
	}
	c.layers = layers
	c.acc = make([]Metrics, len(layers))
	c.alone = make([]Metrics, len(layers))
	c.model = make([]Metrics, len(c.outputs))
	c.aloneModel = make([][]Metrics, len(layers))
	for i := range c.aloneModel {
		c.aloneModel[i] = make([]Metrics, len(c.outputs))
	}
	return nil
}

// addOutputs accumulates the model's float outputs of a tested run.
func (c *Comparer) addOutputs(m []Metrics, ref, x map[string]*tensor.Tensor) error {
	for i, name := range c.outputs {
		if err := m[i].Add(name, ref[name].F32, x[name].F32); err != nil {
			return err
		}
	}
	return nil
}

// run is an observed run whose observer may fail; the first error stops
// the comparison.
func run(e *engine.Engine, inputs map[string]*tensor.Tensor, obs func(string, *tensor.Tensor) error) (map[string]*tensor.Tensor, error) {
	var first error
	out, err := e.RunObserved(inputs, func(name string, t *tensor.Tensor) {
		if first == nil {
			first = obs(name, t)
		}
	})
	if err == nil {
		err = first
	}
	return out, err
}
