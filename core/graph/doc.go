// Package graph turns a decoded ONNX model into the graph the engine runs:
// initializers and Constant nodes become constants, graph inputs that are
// really initializers (the IR 3 convention) are dropped from the inputs,
// every node is checked against the operator set (all problems reported at
// once), nodes are put in topological order, and every node whose inputs
// are all constants is evaluated once at load time (constant folding).
//
// What depends on the input shape (Shape of an activation, and everything
// computed from it) is folded later, when the engine plans for a concrete
// input shape.
package graph
