"""What members of an artist may upload: pictures and audio files."""

from mvsic.settings.environment import env

# The largest artist picture accepted (it is stored as a WebP of at most 512x512).
MVSIC_PICTURE_MAX_BYTES = env.int("MVSIC_PICTURE_MAX_BYTES", default=5 * 1024 * 1024)
# Uploads: the largest audio file an artist may upload (refused before its body is read),
# and the longest track (a longer one is refused when it is processed).
MVSIC_UPLOAD_MAX_BYTES = env.int("MVSIC_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
MVSIC_TRACK_MAX_SECONDS = env.float("MVSIC_TRACK_MAX_SECONDS", default=3 * 3600.0)
# Every uploaded file goes to a temporary file on disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
