/*
 * virtio-gpu-device in 2D mode (virtio 1.2, section 5.7): host-side resources with guest
 * backing pages, one scanout shown on a graphic console. Commands run synchronously when the
 * driver notifies the control queue, so fences complete with their response. The cursor
 * queue's requests are completed without drawing a cursor.
 */
#include <string.h>
#include <glib.h>
#include <pixman.h>
#include "hw/core/object.h"
#include "hw/virtio/virtio.h"
#include "ui/console.h"
#include "util/log.h"

#define VIRTIO_ID_GPU 16

enum {
    CMD_GET_DISPLAY_INFO = 0x0100,
    CMD_RESOURCE_CREATE_2D,
    CMD_RESOURCE_UNREF,
    CMD_SET_SCANOUT,
    CMD_RESOURCE_FLUSH,
    CMD_TRANSFER_TO_HOST_2D,
    CMD_RESOURCE_ATTACH_BACKING,
    CMD_RESOURCE_DETACH_BACKING,
    CMD_UPDATE_CURSOR = 0x0300,
    CMD_MOVE_CURSOR,
    RESP_OK_NODATA = 0x1100,
    RESP_OK_DISPLAY_INFO,
    RESP_ERR_UNSPEC = 0x1200,
    RESP_ERR_OUT_OF_MEMORY,
    RESP_ERR_INVALID_SCANOUT_ID,
    RESP_ERR_INVALID_RESOURCE_ID,
    RESP_ERR_INVALID_CONTEXT_ID,
    RESP_ERR_INVALID_PARAMETER,
};

#define VIRTIO_GPU_FLAG_FENCE 1
#define VIRTIO_GPU_MAX_SCANOUTS 16
#define VIRTIO_GPU_CONFIG_SIZE 16
#define GPU_MAX_BACKING_ENTRIES 16384
#define GPU_MAX_DIM 16384
#define GPU_QUEUE_SIZE 256

typedef struct GpuHdr {
    uint32_t type;
    uint32_t flags;
    uint64_t fence_id;
    uint32_t ctx_id;
    uint8_t ring_idx;
    uint8_t padding[3];
} GpuHdr;

typedef struct GpuRect {
    uint32_t x, y, width, height;
} GpuRect;

/* The largest request body (after the header) the commands here read. */
typedef union GpuCmd {
    struct { uint32_t resource_id, format, width, height; } create;
    struct { uint32_t resource_id, padding; } unref;
    struct { GpuRect r; uint32_t scanout_id, resource_id; } scanout;
    struct { GpuRect r; uint32_t resource_id, padding; } flush;
    struct { GpuRect r; uint64_t offset; uint32_t resource_id, padding; } transfer;
    struct { uint32_t resource_id, nr_entries; } attach;
} GpuCmd;

typedef struct GpuMemEntry {
    uint64_t addr;
    uint32_t length;
    uint32_t padding;
} GpuMemEntry;

typedef struct GpuResource {
    uint32_t id;
    uint32_t width, height;
    pixman_format_code_t format;
    pixman_image_t *image;
    uint64_t hostmem;
    struct iovec *backing;       /* host pointers into guest RAM */
    unsigned nr_backing;
} GpuResource;

typedef struct VirtIOGPU {
    VirtIODevice vdev;
    uint32_t xres, yres;          /* properties: the mode GET_DISPLAY_INFO reports */
    uint64_t max_hostmem;         /* property: bytes all resources may take together */
    uint64_t hostmem;
    uint32_t events_read;
    GHashTable *resources;        /* id -> GpuResource * */
    Console *con;
    uint32_t scanout_res;         /* 0 when the scanout is disabled */
    GpuRect scanout;              /* the part of the resource shown */
} VirtIOGPU;

/* Pixman format of a virtio-gpu format as laid out in little-endian memory. */
static pixman_format_code_t gpu_format(uint32_t f)
{
    switch (f) {
    case 1: return PIXMAN_a8r8g8b8;      /* B8G8R8A8_UNORM */
    case 2: return PIXMAN_x8r8g8b8;      /* B8G8R8X8_UNORM */
    case 3: return PIXMAN_b8g8r8a8;      /* A8R8G8B8_UNORM */
    case 4: return PIXMAN_b8g8r8x8;      /* X8R8G8B8_UNORM */
    case 67: return PIXMAN_a8b8g8r8;     /* R8G8B8A8_UNORM */
    case 68: return PIXMAN_r8g8b8x8;     /* X8B8G8R8_UNORM */
    case 121: return PIXMAN_r8g8b8a8;    /* A8B8G8R8_UNORM */
    case 134: return PIXMAN_x8b8g8r8;    /* R8G8B8X8_UNORM */
    default: return 0;
    }
}

static void gpu_resource_free(gpointer data)
{
    GpuResource *res = data;

    pixman_image_unref(res->image);
    g_free(res->backing);
    g_free(res);
}

static GpuResource *gpu_find(VirtIOGPU *g, uint32_t id)
{
    return g_hash_table_lookup(g->resources, GUINT_TO_POINTER(id));
}

/* True when rect r lies inside a width x height area. */
static bool rect_inside(const GpuRect *r, uint32_t width, uint32_t height)
{
    return r->x <= width && r->width <= width - r->x &&
           r->y <= height && r->height <= height - r->y;
}

static void gpu_scanout_blank(VirtIOGPU *g)
{
    DisplaySurface *s = console_surface(g->con);

    g->scanout_res = 0;
    memset(surface_data(s), 0, (size_t)surface_stride(s) * s->height);
    console_mark_dirty(g->con, 0, 0, s->width, s->height);
}

/* Copies the part of the scanout resource inside r (resource coordinates) to the console. */
static void gpu_scanout_show(VirtIOGPU *g, GpuResource *res, const GpuRect *r)
{
    DisplaySurface *s = console_surface(g->con);
    int x1 = MAX(r->x, g->scanout.x), y1 = MAX(r->y, g->scanout.y);
    int x2 = MIN((uint64_t)r->x + r->width, (uint64_t)g->scanout.x + g->scanout.width);
    int y2 = MIN((uint64_t)r->y + r->height, (uint64_t)g->scanout.y + g->scanout.height);

    if (x2 <= x1 || y2 <= y1) {
        return;
    }
    pixman_image_composite(PIXMAN_OP_SRC, res->image, NULL, s->image, x1, y1, 0, 0,
                           x1 - g->scanout.x, y1 - g->scanout.y, x2 - x1, y2 - y1);
    console_mark_dirty(g->con, x1 - g->scanout.x, y1 - g->scanout.y, x2 - x1, y2 - y1);
}

static uint32_t gpu_create_2d(VirtIOGPU *g, const GpuCmd *c)
{
    pixman_format_code_t fmt = gpu_format(c->create.format);
    GpuResource *res;
    uint64_t size;

    if (c->create.resource_id == 0 || gpu_find(g, c->create.resource_id)) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!fmt || c->create.width == 0 || c->create.height == 0 ||
        c->create.width > GPU_MAX_DIM || c->create.height > GPU_MAX_DIM) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    size = (uint64_t)c->create.width * c->create.height * 4;
    if (g->hostmem + size > g->max_hostmem) {
        return RESP_ERR_OUT_OF_MEMORY;
    }
    res = g_new0(GpuResource, 1);
    res->image = pixman_image_create_bits(fmt, c->create.width, c->create.height, NULL,
                                          c->create.width * 4);
    if (!res->image) {
        g_free(res);
        return RESP_ERR_OUT_OF_MEMORY;
    }
    res->id = c->create.resource_id;
    res->width = c->create.width;
    res->height = c->create.height;
    res->format = fmt;
    res->hostmem = size;
    g->hostmem += size;
    g_hash_table_insert(g->resources, GUINT_TO_POINTER(res->id), res);
    return RESP_OK_NODATA;
}

static uint32_t gpu_unref(VirtIOGPU *g, const GpuCmd *c)
{
    GpuResource *res = gpu_find(g, c->unref.resource_id);

    if (!res) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (g->scanout_res == res->id) {
        gpu_scanout_blank(g);
    }
    g->hostmem -= res->hostmem;
    g_hash_table_remove(g->resources, GUINT_TO_POINTER(res->id));
    return RESP_OK_NODATA;
}

static uint32_t gpu_set_scanout(VirtIOGPU *g, const GpuCmd *c)
{
    GpuResource *res;
    GpuRect r = c->scanout.r;

    if (c->scanout.scanout_id != 0) {
        return RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (c->scanout.resource_id == 0) {
        gpu_scanout_blank(g);
        return RESP_OK_NODATA;
    }
    res = gpu_find(g, c->scanout.resource_id);
    if (!res) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (r.width == 0 || r.height == 0 || !rect_inside(&r, res->width, res->height)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    g->scanout_res = res->id;
    g->scanout = r;
    console_resize(g->con, r.width, r.height);
    gpu_scanout_show(g, res, &r);
    return RESP_OK_NODATA;
}

static uint32_t gpu_flush(VirtIOGPU *g, const GpuCmd *c)
{
    GpuResource *res = gpu_find(g, c->flush.resource_id);

    if (!res) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(&c->flush.r, res->width, res->height)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    if (g->scanout_res == res->id) {
        gpu_scanout_show(g, res, &c->flush.r);
    }
    return RESP_OK_NODATA;
}

static uint32_t gpu_transfer(VirtIOGPU *g, const GpuCmd *c)
{
    GpuResource *res = gpu_find(g, c->transfer.resource_id);
    const GpuRect *r = &c->transfer.r;
    uint32_t stride = res ? res->width * 4 : 0;
    unsigned idx = 0;
    uint64_t base = 0;         /* backing offset where entry idx starts */

    if (!res || !res->backing) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!rect_inside(r, res->width, res->height)) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    uint8_t *dst_base = (uint8_t *)pixman_image_get_data(res->image);
    for (uint32_t h = 0; h < r->height; h++) {
        uint64_t off = c->transfer.offset + (uint64_t)h * stride;
        uint8_t *dst = dst_base + (uint64_t)(r->y + h) * stride + r->x * 4;
        size_t left = (size_t)r->width * 4;

        /* Rows go forward through the backing: walk its entries once. */
        while (left) {
            while (idx < res->nr_backing && off >= base + res->backing[idx].iov_len) {
                base += res->backing[idx].iov_len;
                idx++;
            }
            if (idx == res->nr_backing || off < base) {
                log_mask_printf(LOG_GUEST_ERROR, "virtio-gpu: transfer beyond the backing of "
                                "resource %u\n", res->id);
                return RESP_ERR_INVALID_PARAMETER;
            }
            size_t in_entry = res->backing[idx].iov_len - (off - base);
            size_t n = MIN(left, in_entry);

            memcpy(dst, (uint8_t *)res->backing[idx].iov_base + (off - base), n);
            dst += n;
            off += n;
            left -= n;
        }
    }
    return RESP_OK_NODATA;
}

static uint32_t gpu_attach_backing(VirtIOGPU *g, const GpuCmd *c, const VirtQueueElement *elem)
{
    GpuResource *res = gpu_find(g, c->attach.resource_id);
    uint32_t n = c->attach.nr_entries;
    struct iovec *iov;

    if (!res) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (res->backing) {
        return RESP_ERR_UNSPEC;
    }
    if (n == 0 || n > GPU_MAX_BACKING_ENTRIES) {
        return RESP_ERR_INVALID_PARAMETER;
    }
    iov = g_new(struct iovec, n);
    for (uint32_t i = 0; i < n; i++) {
        GpuMemEntry e;
        size_t at = sizeof(GpuHdr) + sizeof(c->attach) + (size_t)i * sizeof(e);

        if (iov_to_buf(elem->out_sg, elem->out_num, at, &e, sizeof(e)) != sizeof(e)) {
            g_free(iov);
            return RESP_ERR_INVALID_PARAMETER;
        }
        iov[i].iov_len = le32toh(e.length);
        iov[i].iov_base = address_space_ram_ptr(g->vdev.as, le64toh(e.addr), iov[i].iov_len,
                                                false);
        if (!iov[i].iov_base) {
            log_mask_printf(LOG_GUEST_ERROR, "virtio-gpu: backing entry 0x%llx+0x%x of "
                            "resource %u is not in RAM\n", (unsigned long long)le64toh(e.addr),
                            le32toh(e.length), res->id);
            g_free(iov);
            return RESP_ERR_UNSPEC;
        }
    }
    res->backing = iov;
    res->nr_backing = n;
    return RESP_OK_NODATA;
}

static uint32_t gpu_detach_backing(VirtIOGPU *g, const GpuCmd *c)
{
    GpuResource *res = gpu_find(g, c->unref.resource_id);

    if (!res || !res->backing) {
        return RESP_ERR_INVALID_RESOURCE_ID;
    }
    g_free(res->backing);
    res->backing = NULL;
    res->nr_backing = 0;
    return RESP_OK_NODATA;
}

/* Builds the GET_DISPLAY_INFO answer body (after the header) into buf. */
static size_t gpu_display_info(VirtIOGPU *g, uint8_t *buf)
{
    uint32_t mode[6] = { 0, 0, htole32(g->xres), htole32(g->yres), htole32(1), 0 };

    memset(buf, 0, VIRTIO_GPU_MAX_SCANOUTS * sizeof(mode));
    memcpy(buf, mode, sizeof(mode));
    return VIRTIO_GPU_MAX_SCANOUTS * sizeof(mode);
}

/* Request body size of each command. */
static size_t gpu_cmd_size(uint32_t type)
{
    GpuCmd c;

    switch (type) {
    case CMD_GET_DISPLAY_INFO: return 0;
    case CMD_RESOURCE_CREATE_2D: return sizeof(c.create);
    case CMD_RESOURCE_UNREF: return sizeof(c.unref);
    case CMD_SET_SCANOUT: return sizeof(c.scanout);
    case CMD_RESOURCE_FLUSH: return sizeof(c.flush);
    case CMD_TRANSFER_TO_HOST_2D: return sizeof(c.transfer);
    case CMD_RESOURCE_ATTACH_BACKING: return sizeof(c.attach);
    case CMD_RESOURCE_DETACH_BACKING: return sizeof(c.unref);
    default: return 0;
    }
}

/* Little-endian fields to host order (all the fields of GpuCmd are 32 bits but one). */
static void gpu_cmd_to_host(uint32_t type, GpuCmd *c, size_t size)
{
    uint32_t *w = (uint32_t *)c;

    for (size_t i = 0; i < size / 4; i++) {
        w[i] = le32toh(w[i]);
    }
    if (type == CMD_TRANSFER_TO_HOST_2D) {
        /* The 64-bit offset was swapped as two words: put them back in order. */
        uint32_t lo = w[4], hi = w[5];
        c->transfer.offset = (uint64_t)hi << 32 | lo;
    }
}

static void gpu_process(VirtIOGPU *g, VirtQueueElement *elem)
{
    uint8_t resp[sizeof(GpuHdr) + VIRTIO_GPU_MAX_SCANOUTS * 24];
    GpuHdr hdr, *rh = (GpuHdr *)resp;
    size_t resp_len = sizeof(GpuHdr);
    GpuCmd c;
    uint32_t type, status;

    memset(resp, 0, sizeof(resp));
    if (iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
        status = RESP_ERR_UNSPEC;
        goto done;
    }
    type = le32toh(hdr.type);
    size_t size = gpu_cmd_size(type);
    if (iov_to_buf(elem->out_sg, elem->out_num, sizeof(hdr), &c, size) != size) {
        status = RESP_ERR_INVALID_PARAMETER;
        goto fence;
    }
    gpu_cmd_to_host(type, &c, size);
    switch (type) {
    case CMD_GET_DISPLAY_INFO:
        resp_len += gpu_display_info(g, resp + sizeof(GpuHdr));
        status = RESP_OK_DISPLAY_INFO;
        break;
    case CMD_RESOURCE_CREATE_2D:
        status = gpu_create_2d(g, &c);
        break;
    case CMD_RESOURCE_UNREF:
        status = gpu_unref(g, &c);
        break;
    case CMD_SET_SCANOUT:
        status = gpu_set_scanout(g, &c);
        break;
    case CMD_RESOURCE_FLUSH:
        status = gpu_flush(g, &c);
        break;
    case CMD_TRANSFER_TO_HOST_2D:
        status = gpu_transfer(g, &c);
        break;
    case CMD_RESOURCE_ATTACH_BACKING:
        status = gpu_attach_backing(g, &c, elem);
        break;
    case CMD_RESOURCE_DETACH_BACKING:
        status = gpu_detach_backing(g, &c);
        break;
    default:
        log_mask_printf(LOG_UNIMP, "virtio-gpu: command 0x%x not supported\n", type);
        status = RESP_ERR_UNSPEC;
        break;
    }
    if (status != RESP_OK_NODATA && status != RESP_OK_DISPLAY_INFO) {
        log_mask_printf(LOG_GUEST_ERROR, "virtio-gpu: command 0x%x failed with 0x%x\n",
                        type, status);
    }
fence:
    if (le32toh(hdr.flags) & VIRTIO_GPU_FLAG_FENCE) {
        rh->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
        rh->fence_id = hdr.fence_id;
        rh->ctx_id = hdr.ctx_id;
        rh->ring_idx = hdr.ring_idx;
    }
done:
    if (status != RESP_OK_DISPLAY_INFO) {
        resp_len = sizeof(GpuHdr);
    }
    rh->type = htole32(status);
    resp_len = iov_from_buf(elem->in_sg, elem->in_num, 0, resp, resp_len);
    virtqueue_push(&g->vdev.vq[0], elem, resp_len);
}

static void gpu_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        gpu_process((VirtIOGPU *)vdev, elem);
        g_free(elem);
    }
    virtio_notify(vdev, vq);
}

/* Cursor requests complete without effect: no cursor plane is drawn. */
static void gpu_handle_cursor(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        virtqueue_push(vq, elem, 0);
        g_free(elem);
    }
    virtio_notify(vdev, vq);
}

static void gpu_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOGPU *g = (VirtIOGPU *)vdev;
    uint32_t cfg[4] = { htole32(g->events_read), 0, htole32(1), 0 };

    memcpy(config, cfg, sizeof(cfg));
}

static void gpu_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOGPU *g = (VirtIOGPU *)vdev;
    uint32_t clear;

    memcpy(&clear, config + 4, 4);
    g->events_read &= ~le32toh(clear);
}

static void gpu_reset(VirtIODevice *vdev)
{
    VirtIOGPU *g = (VirtIOGPU *)vdev;

    g_hash_table_remove_all(g->resources);
    g->hostmem = 0;
    g->events_read = 0;
    if (g->con) {
        gpu_scanout_blank(g);
    }
}

static bool gpu_realize(Object *obj, Error **errp)
{
    VirtIOGPU *g = (VirtIOGPU *)obj;

    if (g->xres < 16 || g->yres < 16 || g->xres > GPU_MAX_DIM || g->yres > GPU_MAX_DIM) {
        error_setg(errp, "virtio-gpu: xres and yres must be between 16 and %d", GPU_MAX_DIM);
        return false;
    }
    virtio_init(&g->vdev, VIRTIO_ID_GPU, VIRTIO_GPU_CONFIG_SIZE);
    virtio_add_queue(&g->vdev, GPU_QUEUE_SIZE, gpu_handle_ctrl);
    virtio_add_queue(&g->vdev, 16, gpu_handle_cursor);
    g->resources = g_hash_table_new_full(NULL, NULL, NULL, gpu_resource_free);
    g->con = console_graphic_new("virtio-gpu", NULL, g);
    console_resize(g->con, g->xres, g->yres);
    return true;
}

static void gpu_unrealize(Object *obj)
{
    VirtIOGPU *g = (VirtIOGPU *)obj;

    console_destroy(g->con);
    g_hash_table_destroy(g->resources);
    virtio_cleanup(&g->vdev);
}

static const Property gpu_props[] = {
    DEFINE_PROP_UINT32("xres", VirtIOGPU, xres, 1280),
    DEFINE_PROP_UINT32("yres", VirtIOGPU, yres, 800),
    DEFINE_PROP_SIZE("max_hostmem", VirtIOGPU, max_hostmem, 256 << 20),
    DEFINE_PROP_END,
};

static const VirtioDeviceClass virtio_gpu_class = {
    .oc = {
        .name = "virtio-gpu-device",
        .parent = &virtio_device_class.oc,
        .instance_size = sizeof(VirtIOGPU),
        .props = gpu_props,
        .desc = "Virtio GPU (2D: resources, scanout, transfers)",
        .user_creatable = true,
        .bus_type = "virtio-bus",
        .realize = gpu_realize,
        .unrealize = gpu_unrealize,
    },
    .device_id = VIRTIO_ID_GPU,
    .get_config = gpu_get_config,
    .set_config = gpu_set_config,
    .reset = gpu_reset,
};

static void __attribute__((constructor)) virtio_gpu_register(void)
{
    object_class_register(&virtio_gpu_class.oc);
}
