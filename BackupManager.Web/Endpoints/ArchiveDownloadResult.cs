using Microsoft.Net.Http.Headers;

namespace BackupManager.Web.Endpoints;

/// <summary>
/// A plain full download of an archive, read in 1 MiB pieces straight into the response pipe (no intermediate
/// buffer): well above the generic file result's throughput on loopback. Range and conditional requests use the generic
/// result, which implements them.
/// </summary>
public sealed class ArchiveDownloadResult(string path, string filename, long length, DateTimeOffset lastModified,
    EntityTagHeaderValue etag) : IResult
{
    private const int ChunkSize = 1 << 20;

    public static bool Applies(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && !request.Headers.ContainsKey(HeaderNames.Range)
        && !request.Headers.ContainsKey(HeaderNames.IfNoneMatch)
        && !request.Headers.ContainsKey(HeaderNames.IfModifiedSince)
        && !request.Headers.ContainsKey(HeaderNames.IfMatch)
        && !request.Headers.ContainsKey(HeaderNames.IfUnmodifiedSince);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/zip";
        response.ContentLength = length;
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = filename,
            FileNameStar = filename }.ToString();
        response.Headers.ETag = etag.ToString();
        response.Headers.LastModified = lastModified.ToString("R");
        response.Headers.AcceptRanges = "bytes";

        var cancellation = httpContext.RequestAborted;
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            FileOptions.SequentialScan);
        var writer = response.BodyWriter;
        long offset = 0;
        while (offset < length)
        {
            // Read straight into the response pipe's memory: no intermediate buffer, no extra copy.
            var memory = writer.GetMemory(ChunkSize);
            var wanted = (int)Math.Min(memory.Length, length - offset);
            var read = RandomAccess.Read(file, memory.Span[..wanted], offset);
            if (read == 0) break;
            writer.Advance(read);
            offset += read;
            var flushed = await writer.FlushAsync(cancellation);
            if (flushed.IsCanceled || flushed.IsCompleted) break;
        }
    }
}
