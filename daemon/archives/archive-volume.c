/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "archive-volume.h"
#include "fs-util.h"

#define HEAD_SIZE 64
#define ZIP_EOCD_SIZE 22
#define ZIP64_LOCATOR_SIZE 20
#define ZIP_COMMENT_MAX 65535
#define SEVENZIP_START_HEADER_SIZE 32

static const uint8_t RAR5_SIGNATURE[] = { 'R', 'a', 'r', '!', 0x1a, 0x07, 0x01, 0x00 };
static const uint8_t RAR4_SIGNATURE[] = { 'R', 'a', 'r', '!', 0x1a, 0x07, 0x00 };
static const uint8_t SEVENZIP_SIGNATURE[] = { '7', 'z', 0xbc, 0xaf, 0x27, 0x1c };

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

/* RAR 5 variable-length integer: 7 bits a byte, lowest first. */
static bool read_vint(const uint8_t **p, const uint8_t *end, uint64_t *ret) {
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
                uint8_t b = *(*p)++;
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return true;
                }
        }
        return false;
}

/* The main archive header follows the signature: CRC32, header size,
 * type 1, header flags, [extra size], [data size], archive flags
 * (0x0001 volume, 0x0002 volume number present), [volume number]. */
static int detect_rar5(const uint8_t *head, size_t len, char **ret_what) {
        const uint8_t *p = head + sizeof(RAR5_SIGNATURE) + 4, *end = head + len;
        uint64_t header_size, type, flags, archive_flags, skip, number = 0;

        if (!read_vint(&p, end, &header_size) || !read_vint(&p, end, &type) || type != 1 ||
            !read_vint(&p, end, &flags))
                return 0;       /* encrypted headers, or damage: libarchive will say */
        if ((flags & 0x0001) && !read_vint(&p, end, &skip))
                return 0;
        if ((flags & 0x0002) && !read_vint(&p, end, &skip))
                return 0;
        if (!read_vint(&p, end, &archive_flags) || !(archive_flags & 0x0001))
                return 0;
        if ((archive_flags & 0x0002) && !read_vint(&p, end, &number))
                return 0;
        /* The number is counted from 0 and absent on the first volume. */
        *ret_what = g_strdup_printf("volume %" G_GUINT64_FORMAT " of a multi-volume RAR 5 archive", number + 1);
        return ARCHIVE_VOLUME;
}

/* MAIN_HEAD after the 7-byte marker: CRC16, type 0x73, flags (0x0001
 * MHD_VOLUME, 0x0100 MHD_FIRSTVOLUME). */
static int detect_rar4(const uint8_t *head, size_t len, char **ret_what) {
        const uint8_t *m = head + sizeof(RAR4_SIGNATURE);
        uint16_t flags;

        if (len < sizeof(RAR4_SIGNATURE) + 5 || m[2] != 0x73)
                return 0;
        flags = le16(m + 3);
        if (!(flags & 0x0001))
                return 0;
        *ret_what = g_strdup(flags & 0x0100 ? "volume 1 of a multi-volume RAR archive" :
                             "a volume of a multi-volume RAR archive");
        return ARCHIVE_VOLUME;
}

static int detect_7z(const uint8_t *head, size_t len, uint64_t size, char **ret_what) {
        uint64_t next_offset, next_size;

        if (len < SEVENZIP_START_HEADER_SIZE)
                return 0;
        next_offset = le64(head + 12);
        next_size = le64(head + 20);
        /* The headers end at 32 + next_offset + next_size, computed
         * without overflow. */
        if (size < SEVENZIP_START_HEADER_SIZE || next_size > size - SEVENZIP_START_HEADER_SIZE ||
            next_offset > size - SEVENZIP_START_HEADER_SIZE - next_size) {
                if (next_size > UINT64_MAX - SEVENZIP_START_HEADER_SIZE ||
                    next_offset > UINT64_MAX - SEVENZIP_START_HEADER_SIZE - next_size)
                        *ret_what = g_strdup_printf("the 7z archive is cut short, or is the first part of a split "
                                                    "one (.7z.001): its headers end beyond any file");
                else
                        *ret_what = g_strdup_printf("the 7z archive is cut short, or is the first part of a split "
                                                    "one (.7z.001): its headers end at byte %" G_GUINT64_FORMAT
                                                    ", the file has %" G_GUINT64_FORMAT,
                                                    next_offset + next_size + SEVENZIP_START_HEADER_SIZE, size);
                return ARCHIVE_VOLUME_OR_TRUNCATED;
        }
        return 0;
}

/* The end of central directory record of a zip split into segments says
 * which disk it is on (the last one); a zip64 locator counts the disks. */
static int detect_zip_tail(int fd, off_t base, uint64_t size, char **ret_what) {
        size_t len = (size_t) MIN(size, (uint64_t) (ZIP_EOCD_SIZE + ZIP_COMMENT_MAX + ZIP64_LOCATOR_SIZE));
        g_autofree uint8_t *tail = NULL;
        ssize_t n;

        if (len < ZIP_EOCD_SIZE)
                return 0;
        tail = g_malloc(len);
        n = read_full(fd, tail, len, base + (off_t) (size - len));
        if (n < 0)
                return (int) n;
        if ((size_t) n != len)
                return 0;

        for (size_t i = len - ZIP_EOCD_SIZE + 1; i-- > 0; ) {
                const uint8_t *e = tail + i;
                uint16_t disk, cd_disk;

                if (memcmp(e, "PK\x05\x06", 4) != 0 || i + ZIP_EOCD_SIZE + le16(e + 20) != len)
                        continue;
                disk = le16(e + 4);
                cd_disk = le16(e + 6);
                if (disk == 0xffff && i >= ZIP64_LOCATOR_SIZE &&
                    memcmp(e - ZIP64_LOCATOR_SIZE, "PK\x06\x07", 4) == 0 &&
                    le32(e - ZIP64_LOCATOR_SIZE + 16) > 1) {
                        *ret_what = g_strdup_printf("the last segment of a zip archive split into %u parts",
                                                    le32(e - ZIP64_LOCATOR_SIZE + 16));
                        return ARCHIVE_VOLUME;
                }
                if ((disk != 0 && disk != 0xffff) || (cd_disk != 0 && cd_disk != 0xffff)) {
                        *ret_what = g_strdup_printf("the last segment of a zip archive split into %u parts",
                                                    (unsigned) MAX(disk, cd_disk) + 1);
                        return ARCHIVE_VOLUME;
                }
                return 0;
        }
        return 0;
}

int archive_detect_volume(int fd, off_t base, uint64_t size, char **ret_what) {
        uint8_t head[HEAD_SIZE];
        size_t len;
        ssize_t n;

        g_assert(fd >= 0);
        g_assert(ret_what);

        *ret_what = NULL;
        n = read_full(fd, head, (size_t) MIN(size, (uint64_t) sizeof(head)), base);
        if (n < 0)
                return (int) n;
        len = (size_t) n;

        if (len >= sizeof(RAR5_SIGNATURE) && memcmp(head, RAR5_SIGNATURE, sizeof(RAR5_SIGNATURE)) == 0)
                return detect_rar5(head, len, ret_what);
        if (len >= sizeof(RAR4_SIGNATURE) && memcmp(head, RAR4_SIGNATURE, sizeof(RAR4_SIGNATURE)) == 0)
                return detect_rar4(head, len, ret_what);
        if (len >= sizeof(SEVENZIP_SIGNATURE) && memcmp(head, SEVENZIP_SIGNATURE, sizeof(SEVENZIP_SIGNATURE)) == 0)
                return detect_7z(head, len, size, ret_what);
        /* "PK00" instead marks a zip that needed one segment only: whole. */
        if (len >= 8 && memcmp(head, "PK\x07\x08PK\x03\x04", 8) == 0) {
                *ret_what = g_strdup("the first segment of a split zip archive");
                return ARCHIVE_VOLUME;
        }
        /* The last segment of a split zip starts in the middle of some
         * entry's data: only its end tells. */
        return detect_zip_tail(fd, base, size, ret_what);
}
