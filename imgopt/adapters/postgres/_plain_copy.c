/* Plain CSV rows straight to PostgreSQL binary COPY rows, or "defer" when a block is not surely plain.
 *
 * The Python path (PlainCsv's regular expression, then ProductCopy) is the reference: this scanner
 * accepts a strict subset of what that grammar accepts (ASCII only, no blank rows, a bare URL or a
 * quoted list of URLs separated by bare commas) and must then produce the same bytes and counts.
 * Anything else, including any limit it does not check itself, makes it return None so the block
 * goes through the Python path, which decides. Reading it next to imgopt/domain/plain_rows.py and
 * PLAIN_URL_PATTERN in imgopt/domain/product_csv.py is the way to review it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum {
    DIGIT = 1,       /* [0-9] */
    ALNUM = 2,       /* [A-Za-z0-9] */
    HOST = 4,        /* [A-Za-z0-9.-] */
    URL_CHAR = 8,    /* printable ASCII but the quote and the comma */
    QUOTED_NAME = 16, /* space and printable ASCII but the quote */
    BARE_NAME = 32,  /* as QUOTED_NAME, and not the comma */
};

static unsigned char classes[256];

#define IS(c, class) (classes[(unsigned char)(c)] & (class))

/* The fixed part of a row: 26 bytes of field count and request id, then line, serial, name length. */
#define ROW_PREFIX_BYTES 26
#define ROW_FIXED_BYTES (ROW_PREFIX_BYTES + 4 + 4 + 8 + 4)
#define ARRAY_HEADER_BYTES 24
#define TEXT_OID 25

typedef struct {
    Py_ssize_t rows, images, longest_url, longest_cell;
    long long first_serial, last_serial;
    int increasing;
} Tally;

static void init_classes(void) {
    for (int c = 0; c < 256; c++) {
        unsigned char class = 0;
        if (c >= '0' && c <= '9') class |= DIGIT | ALNUM | HOST;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) class |= ALNUM | HOST;
        if (c == '.' || c == '-') class |= HOST;
        if (c >= 0x21 && c <= 0x7e && c != '"' && c != ',') class |= URL_CHAR;
        if (c >= 0x20 && c <= 0x7e && c != '"') class |= QUOTED_NAME;
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != ',') class |= BARE_NAME;
        classes[c] = class;
    }
}

static char *put32(char *out, uint32_t value) {
    out[0] = (char)(value >> 24);
    out[1] = (char)(value >> 16);
    out[2] = (char)(value >> 8);
    out[3] = (char)value;
    return out + 4;
}

static char *put64(char *out, uint64_t value) {
    return put32(put32(out, (uint32_t)(value >> 32)), (uint32_t)value);
}

/* One URL of PLAIN_URL_PATTERN without quotes or commas, starting at p: the end of it, or NULL.
 * The grammar has one way to match: the host is the longest run of host characters, the port the
 * longest run of digits, and what follows a URL (comma, quote, line end) is none of its characters. */
static const char *scan_url(const char *p, const char *end) {
    if (end - p < 8 || (p[0] | 0x20) != 'h' || (p[1] | 0x20) != 't' || (p[2] | 0x20) != 't' || (p[3] | 0x20) != 'p')
        return NULL;
    p += 4;
    if ((*p | 0x20) == 's') p++;
    if (end - p < 4 || p[0] != ':' || p[1] != '/' || p[2] != '/') return NULL;
    p += 3;
    const char *host = p;
    while (p < end && IS(*p, HOST)) p++;
    if (p == host || !IS(host[0], ALNUM) || !IS(p[-1], ALNUM)) return NULL;
    if (p < end && *p == ':') {
        const char *digits = ++p;
        long port = 0;
        while (p < end && IS(*p, DIGIT) && p - digits < 6) port = port * 10 + (*p++ - '0');
        Py_ssize_t count = p - digits;
        /* [0-9]{1,4}, or five digits from 10000 to 65535 */
        if (count == 0 || count > 5 || (count == 5 && (digits[0] == '0' || port > 65535))) return NULL;
    }
    if (p < end && (*p == '/' || *p == '?' || *p == '#')) {
        p++;
        while (p < end && IS(*p, URL_CHAR)) p++;
    }
    return p;
}

/* A name (1 to max_length characters of its class, no space at either end) from p to its end, or NULL. */
static const char *scan_name(const char *p, const char *end, unsigned char class, Py_ssize_t max_length) {
    const char *start = p;
    while (p < end && IS(*p, class)) p++;
    Py_ssize_t length = p - start;
    if (length < 1 || length > max_length || start[0] == ' ' || p[-1] == ' ') return NULL;
    return p;
}

/* One row from p, written at out; the start of the next line, or NULL to defer the block. */
static const char *scan_row(const char *p, const char *end, long long line, const char *prefix,
                            Py_ssize_t max_name_length, Py_ssize_t max_urls, Tally *tally, char **out_p) {
    char *out = *out_p;

    const char *digits = p;
    unsigned long long serial = 0; /* at most 19 digits are read: no overflow */
    int nonzero = 0;
    while (p < end && IS(*p, DIGIT) && p - digits < 19) {
        nonzero |= *p != '0';
        serial = serial * 10 + (*p++ - '0');
    }
    if (p == digits || p - digits > 18 || !nonzero || p >= end || *p != ',') return NULL;
    p++;

    const char *name, *name_end;
    if (p < end && *p == '"') {
        name = p + 1;
        name_end = scan_name(name, end, QUOTED_NAME, max_name_length);
        if (!name_end || name_end >= end || *name_end != '"') return NULL;
        p = name_end + 1;
    } else {
        name = p;
        name_end = scan_name(name, end, BARE_NAME, max_name_length);
        if (!name_end) return NULL;
        p = name_end;
    }
    if (p >= end || *p != ',') return NULL;
    p++;
    Py_ssize_t name_length = name_end - name;

    memcpy(out, prefix, ROW_PREFIX_BYTES);
    out = put32(out + ROW_PREFIX_BYTES, (uint32_t)line);
    out = put32(out, 8);
    out = put64(out, serial);
    out = put32(out, (uint32_t)name_length);
    memcpy(out, name, name_length);
    out += name_length;
    char *array_header = out;
    out += ARRAY_HEADER_BYTES;

    int quoted = p < end && *p == '"';
    const char *cell = p + quoted;
    Py_ssize_t count = 0, url_bytes = 0;
    p = cell;
    for (;;) {
        const char *url_end = scan_url(p, end);
        if (!url_end || ++count > max_urls) return NULL;
        Py_ssize_t length = url_end - p;
        out = put32(out, (uint32_t)length);
        memcpy(out, p, length);
        out += length;
        url_bytes += length;
        if (length > tally->longest_url) tally->longest_url = length;
        p = url_end;
        if (quoted && p < end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    Py_ssize_t cell_length = p - cell;
    if (quoted) {
        if (p >= end || *p != '"') return NULL;
        p++;
    }
    if (p < end && *p == '\r') p++;
    if (p >= end || *p != '\n') return NULL;
    p++;

    char *header = put32(array_header, (uint32_t)(20 + 4 * count + url_bytes));
    header = put32(header, 1);
    header = put32(header, 0);
    header = put32(header, TEXT_OID);
    header = put32(header, (uint32_t)count);
    put32(header, 1);

    if (name_length > tally->longest_cell) tally->longest_cell = name_length;
    if (cell_length > tally->longest_cell) tally->longest_cell = cell_length;
    if (tally->rows == 0)
        tally->first_serial = (long long)serial;
    else if ((long long)serial <= tally->last_serial)
        tally->increasing = 0;
    tally->last_serial = (long long)serial;
    tally->rows++;
    tally->images += count;
    *out_p = out;
    return p;
}

/* Every line of data as a row; the bytes written, or -1 to defer. */
static Py_ssize_t scan_block(const char *data, Py_ssize_t size, long long first_line, const char *prefix,
                             Py_ssize_t max_name_length, Py_ssize_t max_urls, Tally *tally, char *out) {
    const char *p = data, *end = data + size;
    char *start = out;
    long long line = first_line;
    while (p < end) {
        if (line > INT32_MAX) return -1;
        p = scan_row(p, end, line++, prefix, max_name_length, max_urls, tally, &out);
        if (!p) return -1;
    }
    return tally->rows ? out - start : -1;
}

/* No output is larger than this: each line (the last may lack its newline) adds at most its fixed
 * fields and array header, each URL its length, and a URL takes at least 8 bytes of input. */
static Py_ssize_t output_bound(const char *data, Py_ssize_t size) {
    Py_ssize_t lines = 1;
    for (const char *p = data; (p = memchr(p, '\n', data + size - p)) != NULL; p++) lines++;
    return size + lines * (ROW_FIXED_BYTES + ARRAY_HEADER_BYTES) + 4 * (size / 8 + 1);
}

static PyObject *scan(PyObject *module, PyObject *args) {
    Py_buffer data, prefix;
    long long first_line;
    Py_ssize_t max_name_length, max_urls;
    if (!PyArg_ParseTuple(args, "y*Ly*nn:scan", &data, &first_line, &prefix, &max_name_length, &max_urls))
        return NULL;
    PyObject *result = NULL, *copy = NULL;
    if (prefix.len != ROW_PREFIX_BYTES) {
        PyErr_Format(PyExc_ValueError, "the row prefix must be %d bytes", ROW_PREFIX_BYTES);
        goto done;
    }
    if (first_line < 1) {
        PyErr_SetString(PyExc_ValueError, "lines are counted from 1");
        goto done;
    }
    copy = PyBytes_FromStringAndSize(NULL, output_bound(data.buf, data.len));
    if (!copy) goto done;
    Tally tally = {0, 0, 0, 0, 0, 0, 1};
    Py_ssize_t written;
    /* The output is not shared yet and the input is a read-only buffer held for the call. */
    Py_BEGIN_ALLOW_THREADS
    written = scan_block(data.buf, data.len, first_line, prefix.buf, max_name_length, max_urls, &tally,
                         PyBytes_AS_STRING(copy));
    Py_END_ALLOW_THREADS
    if (written < 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (_PyBytes_Resize(&copy, written) < 0) goto done;
    result = Py_BuildValue("(OnnLLOnn)", copy, tally.rows, tally.images, tally.first_serial, tally.last_serial,
                           tally.increasing ? Py_True : Py_False, tally.longest_url, tally.longest_cell);
done:
    Py_XDECREF(copy);
    PyBuffer_Release(&data);
    PyBuffer_Release(&prefix);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(data, first_line, row_prefix, max_name_length, max_urls_per_row) -> None, or\n"
     "(copy, rows, images, first_serial, last_serial, increasing, longest_url, longest_cell)\n\n"
     "The binary COPY rows of a block of whole lines, each a plain row; None when the block is not\n"
     "surely plain, for the Python path to read."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "imgopt.adapters.postgres._plain_copy",
    "Plain CSV rows straight to binary COPY rows (see plain_copy.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__plain_copy(void) {
    init_classes();
    return PyModule_Create(&module);
}
