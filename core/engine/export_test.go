package engine

// WithoutInt8Links returns o for a plan that keeps every tensor in
// float32 (the reference the linked plans are compared against).
func WithoutInt8Links(o Options) Options {
	o.noInt8Links = true
	return o
}

// Int8Linked returns how many tensors the plan keeps in int8.
func Int8Linked(p *Plan) int { return len(p.linked) }
