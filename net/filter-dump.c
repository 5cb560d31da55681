/* filter-dump: writes the frames passing through a netdev to a pcap file (LINKTYPE_ETHERNET). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "net/net.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1
#define VNET_HDR_LEN 12

struct NetFilter {
    char *id;
    FILE *file;
    uint32_t maxlen;
};

typedef struct PcapFileHeader {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
} PcapFileHeader;

typedef struct PcapRecordHeader {
    uint32_t ts_sec, ts_usec, incl_len, orig_len;
} PcapRecordHeader;

/* Every filter by id, to refuse duplicates. */
static GHashTable *filter_ids;

bool net_filter_dump_add(Opts *opts, Error **errp)
{
    const char *id = opts_get(opts, "id");
    const char *netdev = opts_get(opts, "netdev");
    const char *file = opts_get(opts, "file");
    const char *queue = opts_get(opts, "queue");
    const char *status = opts_get(opts, "status");
    uint64_t maxlen;
    NetClientState *nc;
    NetFilter *f;
    PcapFileHeader hdr;

    if (!opts_get_size(opts, "maxlen", 65536, &maxlen, errp)) {
        return false;
    }
    if (!id || !netdev || !file) {
        error_setg(errp, "Parameter '%s' is missing", !id ? "id" : !netdev ? "netdev" : "file");
        return false;
    }
    if (queue && strcmp(queue, "all")) {
        error_setg(errp, "filter-dump: only queue=all is supported");
        return false;
    }
    if (status && strcmp(status, "on")) {
        error_setg(errp, "filter-dump: only status=on is supported");
        return false;
    }
    if (maxlen == 0 || maxlen > UINT32_MAX) {
        error_setg(errp, "Parameter 'maxlen' expects a size between 1 and 4G");
        return false;
    }
    if (!opts_check_all_used(opts, "filter-dump", errp)) {
        return false;
    }
    if (filter_ids && g_hash_table_contains(filter_ids, id)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object (type 'container')",
                   id);
        return false;
    }
    nc = net_netdev_find(netdev);
    if (!nc) {
        error_setg(errp, "Property 'filter-dump.netdev' can't find value '%s'", netdev);
        return false;
    }
    f = g_new0(NetFilter, 1);
    f->file = fopen(file, "wb");
    if (!f->file) {
        error_setg_errno(errp, errno, "filter-dump: can't open file '%s'", file);
        g_free(f);
        return false;
    }
    f->id = g_strdup(id);
    f->maxlen = (uint32_t)maxlen;
    hdr = (PcapFileHeader){ PCAP_MAGIC, 2, 4, 0, 0, f->maxlen, PCAP_LINKTYPE_ETHERNET };
    if (fwrite(&hdr, sizeof(hdr), 1, f->file) != 1 || fflush(f->file) != 0) {
        error_setg_errno(errp, errno, "filter-dump: can't write to file '%s'", file);
        fclose(f->file);
        g_free(f->id);
        g_free(f);
        return false;
    }
    if (!nc->filters) {
        nc->filters = g_ptr_array_new();
    }
    g_ptr_array_add(nc->filters, f);
    if (!filter_ids) {
        filter_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    g_hash_table_add(filter_ids, g_strdup(id));
    return true;
}

static void filter_write(NetFilter *f, const struct iovec *iov, int iovcnt, size_t skip)
{
    size_t size = 0, caplen, done = 0;
    int64_t now = g_get_real_time();
    PcapRecordHeader rec;

    for (int i = 0; i < iovcnt; i++) {
        size += iov[i].iov_len;
    }
    if (size < skip) {
        return;
    }
    size -= skip;
    caplen = MIN(size, f->maxlen);
    rec = (PcapRecordHeader){ (uint32_t)(now / 1000000), (uint32_t)(now % 1000000),
                              (uint32_t)caplen, (uint32_t)size };
    fwrite(&rec, sizeof(rec), 1, f->file);
    for (int i = 0; i < iovcnt && done < caplen; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;

        if (skip >= len) {
            skip -= len;
            continue;
        }
        p += skip;
        len -= skip;
        skip = 0;
        len = MIN(len, caplen - done);
        fwrite(p, 1, len, f->file);
        done += len;
    }
    fflush(f->file);
}

void net_filter_dump_frame(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    size_t skip = nc->info->has_vnet_hdr && nc->info->has_vnet_hdr(nc) ? VNET_HDR_LEN : 0;

    for (guint i = 0; nc->filters && i < nc->filters->len; i++) {
        filter_write(g_ptr_array_index(nc->filters, i), iov, iovcnt, skip);
    }
}

const char *net_filter_id(const NetFilter *f)
{
    return f->id;
}

void net_filters_free(NetClientState *nc)
{
    for (guint i = 0; nc->filters && i < nc->filters->len; i++) {
        NetFilter *f = g_ptr_array_index(nc->filters, i);

        fclose(f->file);
        g_hash_table_remove(filter_ids, f->id);
        g_free(f->id);
        g_free(f);
    }
    if (nc->filters) {
        g_ptr_array_free(nc->filters, TRUE);
        nc->filters = NULL;
    }
}
