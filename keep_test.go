package forget_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// distinctNames returns a comma-separated list of distinct four-letter
// names, none in the catalogue, no longer than size bytes: ~209,000 names
// in 1 MiB.
func distinctNames(size int) string {
	var b strings.Builder
	b.Grow(size)
	for i := 0; b.Len()+5 <= size; i++ {
		name := [4]byte{byte('a' + i%26), byte('a' + i/26%26), byte('a' + i/676%26), byte('a' + i/17576%26)}
		if string(name[:]) == "city" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.Write(name[:])
	}
	return b.String()
}

// hostileBodies are 1 MiB-class bodies that each try to make decoding do
// more than linear work, allocate far more than the body, or answer with
// an unbounded message. Each must be refused with 400.
func hostileBodies(tb testing.TB) []struct{ name, contentType, body string } {
	const max = forget.MaxBodyBytes
	prefix := "customer_id=101&keep="
	keepList := distinctNames(max - len(prefix) - 16)

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	if err := w.SetBoundary("b"); err != nil {
		tb.Fatal(err)
	}
	w.WriteField("customer_id", "101")
	for i := 0; mp.Len() < max-200; i++ {
		if err := w.WriteField("keep", "phone"); err != nil {
			tb.Fatal(err)
		}
	}
	w.WriteField("customer_id", "101") // a second one: refused only at the end
	w.Close()

	var arr strings.Builder
	arr.WriteString(`{"customer_id":101,"keep":[`)
	for i := 0; arr.Len() < max-100; i++ {
		if i > 0 {
			arr.WriteByte(',')
		}
		fmt.Fprintf(&arr, `"x%d"`, i)
	}
	arr.WriteString(`]}`)

	var validArr strings.Builder
	validArr.WriteString(`{"customer_id":101,"keep":[`)
	for i := 0; validArr.Len() < max-100; i++ {
		if i > 0 {
			validArr.WriteByte(',')
		}
		validArr.WriteString(`"phone"`)
	}
	validArr.WriteString(`],"customer_id":1}`) // refused only at the end

	depth := (max - 100) / 2
	deep := `{"customer_id":101,"keep":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`

	var params strings.Builder
	params.WriteString("customer_id=101")
	for i := 0; params.Len() < max-20; i++ {
		fmt.Fprintf(&params, "&p%d=", i)
	}
	var repeated strings.Builder
	repeated.WriteString("customer_id=101")
	for repeated.Len() < max-20 {
		repeated.WriteString("&keep=phone")
	}
	repeated.WriteString("&customer_id=1")

	return []struct{ name, contentType, body string }{
		{"FormKeepDistinctUnknown", form, prefix + keepList},
		{"JSONKeepDistinctUnknown", "application/json", `{"customer_id":101,"keep":"` + keepList + `"}`},
		{"JSONKeepArrayUnknown", "application/json", arr.String()},
		{"JSONKeepArrayThenBadKey", "application/json", validArr.String()},
		{"JSONDeep", "application/json", deep},
		{"MultipartManyParts", w.FormDataContentType(), mp.String()},
		{"FormManyUnknownParams", form, params.String()},
		{"FormRepeatedKeep", form, repeated.String()},
		{"FormHugeParamName", form, "customer_id=101&" + strings.Repeat("n", max-40) + "=1"},
		{"FormHugeKeepName", form, prefix + strings.Repeat("n", max-40)},
	}
}

// BenchmarkKeepUnknown is one authenticated 1 MiB request whose keep list
// holds ~200,000 distinct unknown names: the handler's CPU and memory for
// it.
func BenchmarkKeepUnknown(b *testing.B) {
	h := benchHandler(b)
	body := "customer_id=101&keep=" + distinctNames(forget.MaxBodyBytes-40)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := serveBody(h, form, body)
		if rec.Code != http.StatusBadRequest {
			b.Fatalf("status %d: %.200s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkHostileBody: every hostile body, through the handler.
func BenchmarkHostileBody(b *testing.B) {
	h := benchHandler(b)
	for _, tc := range hostileBodies(b) {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				rec := serveBody(h, tc.contentType, tc.body)
				if rec.Code != http.StatusBadRequest {
					b.Fatalf("status %d: %.200s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func serveBody(h http.Handler, contentType, body string) *httptest.ResponseRecorder {
	return serveTarget(h, "/api/customer/forget", contentType, strings.NewReader(body))
}
