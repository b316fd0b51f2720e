package abi

// TensorShapeRegistered is Engine.TensorShape through RegisterFunc, for
// the tests on amd64.
func (e Engine) TensorShapeRegistered(name string) Dims {
	var buf dimsBuf
	cname := cstring(name)
	impl := Impl(e.Obj)
	tensorShapeRegistered(Method(impl, e.Lib.Slots.Engine.GetTensorShape), impl, &cname[0], &buf)
	return decodeDims(&buf, e.Lib.Slots.Dims32)
}
