package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CinderErrorsClassificationTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "404|{\"itemNotFound\": {\"code\": 404, \"message\": \"Volume x could not be found.\"}}|NOT_FOUND",
      "409|{\"conflictingRequest\": {\"code\": 409, \"message\": \"busy\"}}|CONFLICT",
      "400|{\"badRequest\": {\"code\": 400, \"message\": \"Invalid volume: Volume status must be available or error\"}}|CONFLICT",
      "400|{\"badRequest\": {\"code\": 400, \"message\": \"Invalid input received: size must be > 0\"}}|BAD_REQUEST",
      "401|{\"error\": {\"message\": \"The request you have made requires authentication.\"}}|UNAUTHORIZED",
      "403|{\"forbidden\": {\"code\": 403, \"message\": \"Policy doesn't allow volume:create to be performed.\"}}|FORBIDDEN",
      "413|{\"overLimit\": {\"code\": 413, \"message\": \"Requested volume size 5G is larger than maximum allowed limit 2G.\"}}|BAD_REQUEST",
      "404|{\"itemNotFound\": {\"code\": 404, \"message\": \"Volume type with name nope could not be found.\"}}|NOT_FOUND",
      "400|{\"badRequest\": {\"code\": 400, \"message\": \"Invalid input received: Availability zone 'az9' is invalid.\"}}|BAD_REQUEST",
      "413|{\"overLimit\": {\"code\": 413, \"message\": \"VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota 'volumes'.\"}}|QUOTA_EXCEEDED",
      "413|{\"overLimit\": {\"code\": 413, \"message\": \"Requested volume or snapshot exceeds allowed gigabytes quota.\"}}|QUOTA_EXCEEDED",
      "413|{\"overLimit\": {\"code\": 413, \"message\": \"This request was rate-limited.\", \"retryAfter\": \"7\"}}|RATE_LIMITED",
      "429|Too Many Requests|RATE_LIMITED",
      "500|{\"computeFault\": {\"code\": 500, \"message\": \"boom\"}}|SERVER_ERROR",
      "503|<html>Service Unavailable</html>|SERVER_ERROR",
      // Cinder without a running cinder-backup: a missing service, not a missing backup (never "already deleted").
      "404|{\"itemNotFound\": {\"code\": 404, \"message\": \"Service cinder-backup could not be found.\"}}|SERVER_ERROR",
      "503|{\"serviceUnavailable\": {\"code\": 503, \"message\": \"Service cinder-backup could not be found.\"}}|SERVER_ERROR"})
  void classifiesByStatusAndFaultText(int status, String body, Kind expected) {
    CinderException e = CinderErrors.classify("op on volume v", status, body, null);
    assertThat(e.kind()).isEqualTo(expected);
    assertThat(e.httpStatus()).isEqualTo(status);
    assertThat(e.getMessage()).startsWith("op on volume v: HTTP " + status);
  }

  @Test
  void noBackupServiceIsToldApartFromOtherServerErrors() {
    assertThat(CinderErrors.classify("delete backup b", 404, "{\"itemNotFound\": {\"code\": 404, \"message\": "
        + "\"Service cinder-backup could not be found.\"}}", null).noBackupService()).isTrue();
    assertThat(CinderErrors.classify("delete backup b", 404, "{\"itemNotFound\": {\"code\": 404, \"message\": "
        + "\"Backup b could not be found.\"}}", null).noBackupService()).isFalse();
    assertThat(CinderErrors.classify("x", 500, "{\"computeFault\": {\"code\": 500, \"message\": \"boom\"}}", null)
        .noBackupService()).isFalse();
    assertThat(CinderException.noBackupService("Service not found for creating backup.")).isTrue();
  }

  @Test
  void retryAfterFromHeaderSecondsHttpDateOrBody() {
    assertThat(CinderErrors.retryAfter("12", null)).isEqualTo(Duration.ofSeconds(12));
    String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
    assertThat(CinderErrors.retryAfter(inTenSeconds, null)).isBetween(Duration.ofSeconds(7), Duration.ofSeconds(10));
    assertThat(CinderErrors.retryAfter(null, "{\"overLimit\": {\"code\": 413, \"retryAfter\": \"7\"}}"))
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(CinderErrors.classify("x", 429, "", "3").retryAfter()).contains(Duration.ofSeconds(3));
    assertThat(CinderErrors.retryAfter(null, null)).isNull();
  }

  @Test
  void faultMessageIsTheMessageNotTheWholeBody() {
    assertThat(CinderErrors.faultMessage("{\"badRequest\": {\"code\": 400, \"message\": \"nope\"}}")).isEqualTo("nope");
    assertThat(CinderErrors.faultMessage("x".repeat(1000))).hasSizeLessThan(310);
  }
}
