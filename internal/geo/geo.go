package geo

import "math"

// EarthRadiusKm is the radius Addok uses; keeping it makes `distance` and the
// geo score component identical to Addok's.
const EarthRadiusKm = 6367.0

// HaversineKm returns the great-circle distance in kilometres.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	la1, la2 := lat1*rad, lat2*rad
	dlat := la2 - la1
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlon/2)*math.Sin(dlon/2)
	if a > 1 {
		a = 1
	}
	return 2 * math.Asin(math.Sqrt(a)) * EarthRadiusKm
}

// DistanceMeters is Addok's int(km*1000): truncated, not rounded.
func DistanceMeters(lat1, lon1, lat2, lon2 float64) int {
	return int(HaversineKm(lat1, lon1, lat2, lon2) * 1000)
}

// Cell is a geohash cell as an integer: the geohash bits (longitude first,
// interleaved) of a fixed precision. Precision 7 (Addok's GEOHASH_PRECISION)
// uses 35 bits: 18 for longitude, 17 for latitude.
type Cell uint64

// Precision is the number of base32 characters of the geohash.
const Precision = 7

const (
	lonBits = (Precision*5 + 1) / 2
	latBits = Precision * 5 / 2
)

// CellOf returns the precision-7 geohash cell containing the point.
func CellOf(lat, lon float64) Cell {
	return interleave(index(lon, -180, 360, lonBits), index(lat, -90, 180, latBits))
}

func index(v, min, span float64, bits uint) uint32 {
	n := uint32(1) << bits
	f := (v - min) / span * float64(n)
	if !(f >= 0) { // also catches NaN
		return 0
	}
	if f >= float64(n) {
		return n - 1
	}
	return uint32(f)
}

func interleave(lonIdx, latIdx uint32) Cell {
	// Bits, from the most significant: lon, lat, lon, lat, ..., lon
	// (35 bits: 18 for longitude, 17 for latitude), as geohash does.
	var c uint64
	li, ai := int(lonBits)-1, int(latBits)-1
	for b := 0; b < int(lonBits+latBits); b++ {
		if b%2 == 0 {
			c = c<<1 | uint64(lonIdx>>uint(li)&1)
			li--
		} else {
			c = c<<1 | uint64(latIdx>>uint(ai)&1)
			ai--
		}
	}
	return Cell(c)
}

func split(c Cell) (lonIdx, latIdx uint32) {
	// Bits, from the most significant: lon, lat, lon, lat, ..., lon (35 bits: 18 lon, 17 lat).
	total := lonBits + latBits
	for b := 0; b < int(total); b++ {
		bit := uint32(uint64(c) >> uint(int(total)-1-b) & 1)
		if b%2 == 0 {
			lonIdx = lonIdx<<1 | bit
		} else {
			latIdx = latIdx<<1 | bit
		}
	}
	return
}

// Around returns the cells of the (2r+1)x(2r+1) square centred on c (Addok
// looks at the 3x3 cells around a reverse query's point). Longitude wraps;
// latitude is clamped at the poles (duplicates removed).
func Around(c Cell, r int) []Cell {
	return square(c, r, false, make([]Cell, 0, (2*r+1)*(2*r+1)))
}

// Ring returns the cells at exactly Chebyshev distance r from c: the next
// ring to look at when Around found nothing.
func Ring(c Cell, r int) []Cell {
	return square(c, r, true, nil)
}

// square appends to out the distinct cells of the (2r+1)x(2r+1) square
// centred on c, row by row from the south-west, or only its border when
// border is set. The longitude index wraps around the antimeridian; rows
// past a pole are left out. Only a square wider than the world (2r+1 over
// 2^18 columns) meets itself when it wraps, and only then are duplicates
// looked for; a border row's inner cells are skipped, not visited.
func square(c Cell, r int, border bool, out []Cell) []Cell {
	lonIdx, latIdx := split(c)
	nLon, nLat := int64(1)<<lonBits, int64(1)<<latBits
	var seen map[Cell]struct{}
	if int64(2*r+1) > nLon {
		seen = make(map[Cell]struct{}, cap(out))
	}
	for dy := -r; dy <= r; dy++ {
		y := int64(latIdx) + int64(dy)
		if y < 0 || y >= nLat {
			continue
		}
		step := 1
		if border && dy != -r && dy != r {
			step = 2 * r // only the first and last columns
		}
		for dx := -r; dx <= r; dx += max(step, 1) {
			x := (int64(lonIdx) + int64(dx) + nLon) % nLon
			cell := interleave(uint32(x), uint32(y))
			if seen != nil {
				if _, dup := seen[cell]; dup {
					continue
				}
				seen[cell] = struct{}{}
			}
			out = append(out, cell)
		}
	}
	return out
}

// CellSizeMeters returns the approximate height and width of a cell at lat.
func CellSizeMeters(lat float64) (height, width float64) {
	height = 180.0 / float64(int64(1)<<latBits) * math.Pi / 180 * EarthRadiusKm * 1000
	width = 360.0 / float64(int64(1)<<lonBits) * math.Pi / 180 * EarthRadiusKm * 1000 * math.Cos(lat*math.Pi/180)
	return
}

const base32 = "0123456789bcdefghjkmnpqrstuvwxyz"

// String returns the usual base32 geohash of the cell.
func (c Cell) String() string {
	var b [Precision]byte
	for i := Precision - 1; i >= 0; i-- {
		b[i] = base32[c&31]
		c >>= 5
	}
	return string(b[:])
}

// Corner7 returns the cell's south-west corner in units of 1e-7 degree,
// rounded down. A cell spans 180/2^17 degree of latitude and 360/2^18 of
// longitude (13,733 units, rounded up), so a point of the cell rounded to
// 1e-7 degree is at most 13,734 units north and east of it: the index
// stores points as u16 offsets from it.
func (c Cell) Corner7() (lat, lon int32) {
	lonIdx, latIdx := split(c)
	// Integer arithmetic: exact, and the products fit in int64.
	lat = int32(int64(latIdx)*1_800_000_000>>latBits - 900_000_000)
	lon = int32(int64(lonIdx)*3_600_000_000>>lonBits - 1_800_000_000)
	return lat, lon
}
