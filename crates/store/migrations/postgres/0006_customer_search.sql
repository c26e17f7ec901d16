-- The customer of each conversation, lowercased, for the drill-down's customer search (the
-- facts hold no personal data). '' when the conversation names no customer or the customer
-- was erased; NULL for conversations stored before this column (filled by the next
-- recompute).
ALTER TABLE conversations ADD COLUMN customer_key TEXT;
