-- Notification email delivery state: set once SES accepted the email for an inbox row.
-- NULL means "not sent yet": the notifier sends (again) on a retry, so a crash between writing the
-- inbox row and sending the email loses no email; the row lock held around the send keeps two
-- deliveries of one event from both sending.
ALTER TABLE notifications ADD COLUMN email_sent_at timestamptz;

-- GET /notifications?unread=true: the caller's unread rows, newest first.
CREATE INDEX notifications_user_unread ON notifications (user_id, created_at DESC, notification_id DESC)
    WHERE read_at IS NULL;
