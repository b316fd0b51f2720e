package ops

import "github.com/int8cal/int8cal/core/qgemm"

// TEMPORARY until qgemm.MulTaps lands: B packed from the offsets.
func tapsSpan(n int) int { return (n + 31) / 32 * 32 * qgemm.KGroup }

func mulTaps(a *qgemm.PackedA, n int, src []int8, offs []int32, c []int32, ldc int, buf *[]int8) {
	kp := len(offs) * qgemm.KGroup
	size := (n + qgemm.NR - 1) / qgemm.NR * qgemm.NR * kp
	if len(*buf) < size {
		*buf = qgemm.MakePackedBBuffer(kp, n)
	}
	b := *buf
	for q := 0; q*qgemm.NR < n; q++ {
		panel := b[q*qgemm.NR*kp:]
		for g, off := range offs {
			copy(panel[g*64:g*64+64], src[int(off)+q*64:])
		}
	}
	a.MulPackedBuf(n, b, c, ldc)
}

func tapsTmpBytes(t tapsGeometry) int64 {
	return int64(qgemm.PackedBSize(len(t.offs)*qgemm.KGroup, t.n))
}
