using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// Any S3-compatible service through AWSSDK.S3. Objects up to <see cref="MultipartThreshold"/> are one PUT; larger
/// ones a multipart upload in 8 MiB parts that is completed (the object appears whole) or aborted (nothing appears).
/// Checksums are sent only where S3 requires them: many S3-compatible servers refuse the SDK's newer default ones.
/// </summary>
public sealed class S3Destination : IDestinationStorage
{
    internal const int MultipartThreshold = 16 << 20;
    internal const int PartSize = 8 << 20;
    private readonly string _name;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly AmazonS3Client _client;

    public S3Destination(string name, DestinationOptions options)
    {
        _name = name;
        _bucket = options.Bucket!;
        _prefix = string.IsNullOrWhiteSpace(options.Prefix) ? "" : options.Prefix.Trim('/') + "/";
        var secret = !string.IsNullOrEmpty(options.SecretAccessKey)
            ? options.SecretAccessKey : File.ReadAllText(options.SecretAccessKeyFile!).Trim();
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region;
        }
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, secret), config);
        Location = $"s3://{_bucket}/{_prefix}";
    }

    public string Location { get; }

    public async Task<IReadOnlyList<RemoteObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var result = new List<RemoteObject>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix + prefix };
        await Call("list", prefix, async () =>
        {
            ListObjectsV2Response response;
            do
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
                foreach (var o in response.S3Objects ?? []) result.Add(new RemoteObject(o.Key[_prefix.Length..],
                    o.Size ?? 0, o.LastModified));
                request.ContinuationToken = response.NextContinuationToken;
            } while (response.IsTruncated == true);
            return 0;
        }).ConfigureAwait(false);
        return result;
    }

    public async Task PutAsync(string key, Stream content, long length, CancellationToken cancellationToken)
    {
        if (length <= MultipartThreshold)
        {
            // Buffered and signed whole: with aws-chunked streaming signatures some S3-compatible servers store the
            // chunk framing as data.
            var buffer = new MemoryStream((int)length);
            await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            CheckLength(key, buffer.Length, length);
            buffer.Position = 0;
            await Call("upload", key,
                () => _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = _prefix + key,
                InputStream = buffer, AutoCloseStream = false, UseChunkEncoding = false },
                cancellationToken)).ConfigureAwait(false);
            return;
        }
        var upload = await Call("start the upload of", key,
            () => _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket,
            Key = _prefix + key }, cancellationToken)).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var part = new byte[PartSize];
            long total = 0;
            for (var number = 1; ; number++)
            {
                var read = await content.ReadAtLeastAsync(part, PartSize, throwOnEndOfStream: false,
                    cancellationToken).ConfigureAwait(false);
                if (read == 0 && number > 1) break;
                total += read;
                Restore.FaultInjection.PauseAt("offsite-upload");
                var response = await Call("upload part of", key, () => _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket, Key = _prefix + key, UploadId = upload.UploadId, PartNumber = number,
                    InputStream = new MemoryStream(part, 0, read, writable: false), PartSize = read,
                        UseChunkEncoding = false,
                }, cancellationToken)).ConfigureAwait(false);
                parts.Add(new PartETag(number, response.ETag));
                if (read < PartSize) break;
            }
            CheckLength(key, total, length);
            await Call("finish the upload of", key,
                () => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket, Key = _prefix + key, UploadId = upload.UploadId, PartETags = parts,
            }, cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            // Nothing half-uploaded may stay behind (it would also be billed): abort, even when the caller gave up.
            try { await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket,
                Key = _prefix + key, UploadId = upload.UploadId }, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception) { /* stale uploads are also removed by RemoveLeftoversAsync */ }
            throw;
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var response = await Call("download", key,
            () => _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = _prefix + key },
            cancellationToken)).ConfigureAwait(false);
        return new ResponseStream(response);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        Call("delete", key,
            () => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = _prefix + key },
            cancellationToken));

    public async Task<int> RemoveLeftoversAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        ListMultipartUploadsResponse uploads;
        try { uploads = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _bucket,
            Prefix = _prefix }, cancellationToken).ConfigureAwait(false); }
        // not every S3-compatible server lists uploads; completed or aborted ones leave nothing anyway
        catch (AmazonS3Exception) { return 0; }
        var removed = 0;
        foreach (var u in uploads.MultipartUploads ?? [])
        {
            if (u.Initiated is { } started && DateTime.UtcNow - started.ToUniversalTime() < olderThan) continue;
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = u.Key,
                UploadId = u.UploadId }, cancellationToken).ConfigureAwait(false);
            removed++;
        }
        return removed;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private void CheckLength(string key, long actual, long expected)
    {
        if (actual != expected) throw new DestinationException(
            $"{_name}: {key} came out {actual} bytes long instead of {expected}; it was not uploaded.");
    }

    private async Task<T> Call<T>(string what, string key, Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound
            && e.ErrorCode is "NoSuchKey" or "NotFound")
        {
            throw new DestinationException($"{_name}: {key} is missing at {Location}.", e);
        }
        catch (AmazonS3Exception e) when (
            e.ErrorCode is "SignatureDoesNotMatch" or "InvalidAccessKeyId" or "AccessDenied"
            || e.StatusCode is HttpStatusCode.Forbidden)
        {
            throw new DestinationException(
                $"{_name}: the S3 service at {Location} refused the credentials ({e.ErrorCode}: {e.Message}). "
                + $"Check Backup__Destinations__{_name}__AccessKeyId and its secret, and that the key may write to "
                    + $"the bucket.", e, needsAction: true);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            throw new DestinationException(
                $"{_name}: the bucket {_bucket} does not exist at {Location}. Create it, or correct "
                + $"Backup__Destinations__{_name}__Bucket.", e, needsAction: true);
        }
        catch (AmazonS3Exception e)
        {
            throw new DestinationException($"{_name}: could not {what} {key} at {Location}: {e.ErrorCode} {e.Message}",
                e);
        }
        catch (AmazonServiceException e)
        {
            throw new DestinationException($"{_name}: could not {what} {key} at {Location}: {e.Message}", e);
        }
        catch (HttpRequestException e)
        {
            throw new DestinationException(
                $"{_name}: the S3 service at {Location} cannot be reached ({e.Message}). Check the network and "
                + $"Backup__Destinations__{_name}__ServiceUrl; the copy is retried later.", e);
        }
        catch (AmazonClientException e)
        {
            throw new DestinationException(
                $"{_name}: the S3 service at {Location} cannot be reached ({e.Message}). Check the network and "
                + $"Backup__Destinations__{_name}__ServiceUrl; the copy is retried later.", e);
        }
    }

    /// <summary>The object's bytes; disposing it releases the HTTP response.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Core.IO.ReadOnlyStream
    {
        private readonly Stream _inner = response.ResponseStream;
        public override long Length => response.ContentLength;
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
