// Package imagefolder reads a folder of PNG and JPEG images as a labelled
// data set, the way torchvision's ImageFolder does, and preprocesses them
// with package preprocess.
//
// Labels come from one of three sources, chosen by Options:
//
//   - Class subfolders (the default): dir/<class>/.../<image>. The class
//     names are the subfolders of dir in sorted (byte) order, and class k
//     is label k, as torchvision's find_classes. Each class folder is
//     searched recursively; its images are ordered as torchvision orders
//     them: by directory path, then by file name (sorted(os.walk(...)),
//     sorted(fnames)). Files directly in dir are ignored. A class folder
//     without images is an error, as in torchvision, because it would
//     silently shift the indices of the classes after it.
//   - A labels file (Options.Labels), one image per line, in the file's
//     order. A file whose name ends in ".csv" is CSV: records "path,label",
//     quoted as encoding/csv reads them, the first record skipped when its
//     label is not an integer (a header such as "path,label"). Any other
//     file is Caffe's ImageData / ImageNet val.txt format: "path label", the
//     label after the last run of spaces or tabs, so paths may contain
//     spaces; blank lines and lines starting with '#' are skipped. Labels are
//     non-negative integers. Paths are relative to dir (absolute paths are
//     taken as they are); each must exist, be listed once and end in a
//     supported extension.
//   - Unlabeled (Options.Unlabeled): every image under dir, recursively, in
//     the order above, with label -1; enough for calibration, which needs
//     no labels.
//
// Supported files end in .png, .jpg or .jpeg, in any case. Others (.txt,
// .webp, .bmp, ...) are skipped when listing a folder, and Skipped reports
// them so that a plugin can log what it left out; a folder with no images
// is an error that counts what was skipped. Names starting with '.' are
// skipped too (macOS "._x.jpg" files, .ipynb_checkpoints folders), unlike
// torchvision, which would count a hidden folder as a class. Symbolic links
// are followed, as torchvision does; a link back to a folder being
// searched is an error.
//
// Load decodes image i by its content (the PNG or JPEG signature), not its
// extension, into a preprocess.Image of raw values: 0..255, 16-bit PNG
// samples divided by 257 (not rounded). Options.Channels picks the
// channels: 3 (the default) gives RGB, a grayscale image replicated into
// all three, as torchvision's loader (PIL's convert("RGB")); 1 gives one
// gray channel, colour converted with PIL's convert("L") formula
// L = (19595·R + 38470·G + 7471·B + 32768) >> 16 (ITU-R 601-2 luma).
// Alpha is dropped without compositing, as convert("RGB") does. JPEG
// pixels come from Go's image/jpeg, which upsamples chroma without
// libjpeg's "fancy" filter and uses its own integer IDCT and colour
// conversion: values can differ from PIL's or OpenCV's by a few units,
// which moves calibration statistics negligibly.
//
// Read preprocesses a run of images into one batch, like the other sample
// sources (datasets/mnist, datasets/batchfile). Every image must come out
// of preprocessing with the shape SampleShape reports: set a crop (or use
// images of one size) so that they do.
//
// Every error is a single line naming the file, and for an image its index:
// "imagefolder: image 17 (dir/cat/x.jpg): JPEG: unexpected EOF".
package imagefolder
