// Package preprocess turns decoded images into network input: the resize,
// center crop, scaling, per-channel normalization, channel order and memory
// layout that image classifiers are trained with, shared by every data set
// plugin.
//
// An Image is float32 pixels in HWC order (row after row, the C channel
// values of a pixel together), channels in RGB order for colour images, raw
// values as decoded (0..255 for 8-bit images; FromBytes converts uint8
// pixels). A Spec says what to do with it; Apply writes the result into a
// caller's slice, one sample of shape OutputShape (no batch dimension), so
// a batch is assembled by applying the Spec to each image's slot.
//
// Operations run in the order of the usual torchvision pipeline
// Resize(r) → CenterCrop(h, w) → ToTensor → Normalize(mean, std):
//
//  1. Resize: the shorter side becomes Resize pixels and the longer side
//     floor(Resize·long/short) pixels (integer arithmetic; torchvision's
//     int(size*long/short) truncates the same way). An image whose shorter
//     side already is Resize is left as it is. Interpolation is bilinear with
//     half-pixel centres and no antialiasing: output pixel x samples the
//     input at u = (x+0.5)·in/out − 0.5, clamped to [0, in−1], and mixes
//     the two neighbours floor(u) and floor(u)+1 (the last pixel repeats at
//     the edge) with weights 1−frac(u) and frac(u), in both directions: each
//     output value is a weighted sum of four input pixels. This is torch.nn.functional.interpolate(mode="bilinear",
//     align_corners=False, antialias=False), torchvision's Resize on tensors
//     with antialias=False, and cv2.resize INTER_LINEAR. Weights and sums are
//     computed in float64 and rounded to float32 once per value; PyTorch
//     computes in float32, so results agree to float32 rounding (a few ulp).
//     Not reproduced: antialiasing when shrinking (PIL's resize and
//     torchvision's default antialias=True average over a wider window when
//     downscaling; enlarging is the same) and PIL's rounding of the resized
//     image back to 8 bits.
//  2. Center crop to CenterCrop = {H, W} (0 keeps that dimension). The
//     window starts at top = round((H_in−H)/2), left = round((W_in−W)/2),
//     rounded half to even as Python's round does (a difference of 1 gives
//     0, of 3 gives 2, of 5 gives 2), as torchvision's center_crop. Where
//     the crop is larger than the image, the image is first padded with
//     zeros (raw value 0) by floor((H−H_in)/2) before and the rest after, as
//     torchvision does; padded pixels then go through scale and normalize
//     like any other pixel.
//  3. Scale: x·Scale in float32 (Scale 0 means 1, so that the zero Spec is
//     the identity). ToTensor divides by 255; multiplying by
//     float32(1/255) can differ from that in the last bit.
//  4. Normalize: (x − Mean[c]) / Std[c] in float32, subtraction then
//     division as torchvision's Normalize. One value applies to every
//     channel. Mean and Std are listed in the image's own channel order
//     (RGB), because normalization comes before the channel swap: a Caffe
//     model's BGR mean 103.939,116.779,123.68 is written
//     mean=123.68,116.779,103.939 together with channels=bgr.
//  5. Channel order: BGR reverses the channels of a 3-channel image (and
//     leaves a 1-channel one alone).
//  6. Layout: NCHW writes channel planes (CHW), NHWC interleaved pixels (HWC).
//
// Parse reads a Spec from string options such as a plugin receives:
//
//	scale=1/255 mean=0.485,0.456,0.406 std=0.229,0.224,0.225
//	layout=nchw channels=rgb resize=256 crop=224
//
// Every error is a single line that names the option or the image
// dimensions at fault and what would be accepted.
package preprocess
