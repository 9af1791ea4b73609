package main

import (
	"math/bits"
	"time"
)

// Latencies are recorded in a log-linear histogram: values below 2^subBits
// nanoseconds get a bucket each, larger ones 2^subBits buckets per power of
// two, so a bucket is at most 1/64 (1.6%) of its value wide. Memory is fixed
// (histBuckets counters, about 18 KiB) however many calls are recorded.
const (
	subBits     = 6
	subCount    = 1 << subBits
	maxBits     = 40                                 // 2^40 ns is ~18 minutes; longer latencies count as that
	maxTracked  = 1 << maxBits                       //
	histBuckets = (maxBits + 2 - subBits) * subCount // index of maxTracked is the last
)

// hist is one worker's latency histogram. It is not safe for concurrent
// use: each load worker owns one and they are merged when the run ends.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

// bucketOf maps a latency in ns to its bucket index.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	if v > maxTracked {
		v = maxTracked
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketMid is a representative value of bucket i: its midpoint.
func bucketMid(i int) time.Duration {
	if i < subCount {
		return time.Duration(i)
	}
	e := i/subCount - 1
	m := uint64(i%subCount + subCount)
	lo := m << e
	return time.Duration(lo + (uint64(1)<<e)/2)
}

func (h *hist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the calls fall,
// never more than the largest latency seen.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketMid(i), h.max)
		}
	}
	return h.max
}

func (h *hist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
