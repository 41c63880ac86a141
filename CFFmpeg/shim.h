// The one C header ClipKit imports FFmpeg through. Swift cannot import function-like macros,
// so the few ClipKit needs are re-exported as `static inline` functions prefixed `cffmpeg_`.
#ifndef CLIPKIT_CFFMPEG_SHIM_H
#define CLIPKIT_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// ClipKit is written against FFmpeg 5.1 (Debian 12). A different major version changes struct
// layouts and deprecations under us, so fail the build here with one clear message instead.
#if LIBAVFORMAT_VERSION_MAJOR != 59 || LIBAVCODEC_VERSION_MAJOR != 59 || LIBAVUTIL_VERSION_MAJOR != 57 \
    || LIBSWSCALE_VERSION_MAJOR != 6 || LIBSWRESAMPLE_VERSION_MAJOR != 4
#error "ClipKit needs FFmpeg 5.1 (libavformat 59, libavcodec 59, libavutil 57, libswscale 6, libswresample 4)"
#endif

/// AVERROR(e): POSIX errno to FFmpeg error code (a macro).
static inline int cffmpeg_averror(int e) { return AVERROR(e); }
/// AVERROR_EOF (built with FFERRTAG, a macro Swift cannot evaluate).
static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR_INVALIDDATA, same reason.
static inline int cffmpeg_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AVERROR_DECODER_NOT_FOUND, same reason.
static inline int cffmpeg_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
/// AV_NOPTS_VALUE is a cast macro of INT64_C(0x8000000000000000).
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
/// AV_TIME_BASE_Q is a compound literal.
static inline AVRational cffmpeg_time_base_q(void) { return (AVRational){1, AV_TIME_BASE}; }

#endif
