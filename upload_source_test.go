package toloka

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain reads a source as the uploader does.
func drain[T Task | TaskSuite](t *testing.T, src Source[T]) (items []T, bad map[int]*FieldError, err error) {
	t.Helper()
	p := src.open()
	defer p.stop()
	bad = map[int]*FieldError{}
	for i := 0; ; i++ {
		item, b, ok := p.next()
		if !ok {
			return items, bad, p.err()
		}
		if b != nil {
			bad[i] = b
			var zero T
			item = zero
		}
		items = append(items, item)
	}
}

func TestTasksFromJSONLReadsLongLinesAndOddSpacing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300<<10) // far past bufio's and Scanner's 64 KiB
	input := "\xef\xbb\xbf" + `{"pool_id":"1","input_values":{"image":"a"},"overlap":2}` + "\r\n" +
		"\n   \n" +
		`{"pool_id":"1","input_values":{"text":"` + long + `"},"infinite_overlap":true,"overlap":null}` + "\n" +
		`  {"pool_id":"1","input_values":{"n":12345678901234567890}}` // no final newline

	items, bad, err := drain(t, TasksFromJSONL(strings.NewReader(input)))
	require.NoError(t, err)
	require.Empty(t, bad)
	require.Len(t, items, 3, "blank lines take no index")
	assert.Equal(t, "a", items[0].InputValues["image"])
	assert.Equal(t, "2", items[0].Overlap.String())
	assert.Equal(t, long, items[1].InputValues["text"])
	assert.True(t, items[1].Overlap.IsInfinite())
	assert.Equal(t, "12345678901234567890", items[2].InputValues["n"].(interface{ String() string }).String(), "numbers keep their digits")
}

func TestTasksFromJSONLRejectsBadLinesAndGoesOn(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		`{"pool_id":"1","input_values":{"image":"a"}}`,
		`{"pool_id":"1","input_values":`,
		`["not", "an", "object"]`,
		`{"pool_id":1}`,
		`{"pool_id":"1","input_values":{"image":"b"}}`,
	}, "\n")
	items, bad, err := drain(t, TasksFromJSONL(strings.NewReader(input)))
	require.NoError(t, err)
	require.Len(t, items, 5)
	assert.Equal(t, "b", items[4].InputValues["image"])
	require.Len(t, bad, 3)
	assert.Equal(t, CodeInvalidJSONLine, bad[1].Code)
	assert.Contains(t, bad[1].Message, "line 2 is not a valid task")
	assert.Contains(t, bad[2].Message, "line 3 is not a JSON object: write one task object per line")
	assert.Contains(t, bad[3].Message, "line 4 is not a valid task")
}

func TestTasksFromJSONLSkipsAnOverlongLine(t *testing.T) {
	t.Parallel()
	huge := `{"pool_id":"1","input_values":{"t":"` + strings.Repeat("z", maxJSONLineBytes) + `"}}`
	input := huge + "\n" + `{"pool_id":"1","input_values":{"image":"after"}}` + "\n"
	items, bad, err := drain(t, TasksFromJSONL(strings.NewReader(input)))
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.NotNil(t, bad[0])
	assert.Equal(t, CodeObjectSizeTooLarge, bad[0].Code)
	assert.Contains(t, bad[0].Message, "line 1 is longer than 16777216 bytes")
	assert.Equal(t, "after", items[1].InputValues["image"], "the next line is read normally")
}

// failingReader returns data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestJSONLReadErrorStopsTheUpload(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	data := jsonl(t, imageTasks(3))
	items, _, err := drain(t, TasksFromJSONL(&failingReader{data: data, err: boom}))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "after line 3")
	assert.Len(t, items, 3)

	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromJSONL(&failingReader{data: data, err: boom}),
		withRunner(fake.run), withClock(clk))
	require.ErrorIs(t, err, boom)
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.True(t, ue.Stopped)
	assert.EqualValues(t, 3, sum.Created, "what was read before the error is uploaded")
}

func TestJSONLSourceReportsBadLinesAsRejectedItems(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	buf.Write(jsonl(t, imageTasks(2)))
	buf.WriteString("{oops\n")
	buf.Write(jsonl(t, imageTasks(1)))
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	res := newResults()
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromJSONL(&buf),
		withRunner(fake.run), withClock(clk), OnResult(res.add))
	require.NoError(t, err)
	assert.EqualValues(t, 3, sum.Created)
	assert.EqualValues(t, 1, sum.Rejected)
	r := res.get(2)
	require.Equal(t, ItemRejected, r.Status)
	assert.Equal(t, -1, r.Batch)
	assert.Equal(t, 2, r.Errors[0].Index)
	assert.Equal(t, "tasks[2]: INVALID_JSON_LINE: line 3 is not a valid task: invalid character 'o' looking for beginning of object key string", r.Errors[0].Error())
	assert.Equal(t, ItemCreated, res.get(3).Status)
}

func TestSliceAndSeqSources(t *testing.T) {
	t.Parallel()
	tasks := imageTasks(3)
	items, _, err := drain(t, TasksFromSlice(tasks))
	require.NoError(t, err)
	assert.Equal(t, tasks, items)
	assert.EqualValues(t, 3, TasksFromSlice(tasks).total)

	src := TasksFromSeq(func(yield func(Task) bool) {
		for _, task := range tasks {
			if !yield(task) {
				return
			}
		}
	})
	assert.EqualValues(t, -1, src.total)
	for range 2 { // reusable: each upload pulls afresh
		items, _, err = drain(t, src)
		require.NoError(t, err)
		assert.Equal(t, tasks, items)
	}
	items, _, err = drain(t, TasksFromSeq(nil))
	require.NoError(t, err)
	assert.Empty(t, items)

	suites, _, err := drain(t, TaskSuitesFromJSONL(io.MultiReader(strings.NewReader(`{"pool_id":"9","tasks":[{"input_values":{"a":1}}]}`+"\n"), strings.NewReader("[]\n"))))
	require.NoError(t, err)
	require.Len(t, suites, 2)
	assert.Equal(t, "9", suites[0].PoolID)
}

func TestSeqSourceStopsTheGeneratorWhenTheUploadStops(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	src := TasksFromSeq(func(yield func(Task) bool) {
		defer close(stopped)
		for i := 0; ; i++ {
			if !yield(imageTask(i)) {
				return
			}
		}
	})
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.failBatch = func(*uploadBatch) (bool, bool) { return true, false }
	_, err := testClient(t).UploadTasks(context.Background(), src, WithBatchSize(3), WithConcurrency(1), StopOnError(),
		withRunner(fake.run), withClock(clk))
	require.ErrorIs(t, err, ErrUploadIncomplete)
	<-stopped // the infinite generator was told to stop
}

func TestSeq2ErrorStopsTheUpload(t *testing.T) {
	t.Parallel()
	boom := errors.New("database gone")
	rows := func(yield func(Task, error) bool) {
		for i, task := range imageTasks(4) {
			if !yield(task, nil) {
				return
			}
			if i == 2 {
				yield(Task{}, boom)
				return
			}
		}
	}
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSeq2(rows), withRunner(fake.run), withClock(clk))
	require.ErrorIs(t, err, boom, "a failing source is never taken for a complete one")
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.True(t, ue.Stopped)
	assert.EqualValues(t, 3, sum.Created, "what was yielded before the error is uploaded")

	suites := func(yield func(TaskSuite, error) bool) { yield(imageSuite(0), nil) }
	sum, err = testClient(t).UploadTaskSuites(context.Background(), TaskSuitesFromSeq2(suites), withRunner(fake.run), withClock(clk))
	require.NoError(t, err)
	assert.EqualValues(t, 1, sum.Created)
}
