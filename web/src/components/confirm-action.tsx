import { useState } from 'react';
import { Button, Dialog, DialogTrigger, Heading, Input, Label, Modal, TextArea, TextField } from 'react-aria-components';

export interface ConfirmActionProps {
  /** The button's text, e.g. "Pause". */
  readonly label: string;
  /** The dialog's title, e.g. "Pause rollout 12?". */
  readonly title: string;
  /** What will happen, in a sentence. */
  readonly description: string;
  /** The confirming button's text, e.g. "Pause rollout". */
  readonly confirmLabel: string;
  /** The reason field's label; the reason is kept in the audit trail. */
  readonly reasonLabel?: string;
  readonly multilineReason?: boolean;
  readonly isDisabled?: boolean;
  readonly danger?: boolean;
  /** Runs the action; an error message keeps the dialog open and shows it. */
  onConfirm(reason: string): Promise<string | undefined>;
}

/**
 * A button that opens a modal confirmation with a reason field (react-aria: focus moves into the
 * dialog and back, Escape cancels, the page behind is inert).
 */
export function ConfirmAction(props: ConfirmActionProps) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <DialogTrigger onOpenChange={(open) => { if (open) { setReason(''); setError(undefined); } }}>
      <Button className={props.danger ? 'button danger' : 'button'} isDisabled={props.isDisabled ?? false}>
        {props.label}
      </Button>
      <Modal className="modal" isDismissable>
        <Dialog className="dialog" role="alertdialog">
          {({ close }) => (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                setBusy(true);
                props
                  .onConfirm(reason.trim())
                  .then((failure) => {
                    if (failure) setError(failure);
                    else close();
                  })
                  .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
                  .finally(() => setBusy(false));
              }}
            >
              <Heading slot="title">{props.title}</Heading>
              <p>{props.description}</p>
              <TextField className="field" value={reason} onChange={setReason} autoFocus>
                <Label>{props.reasonLabel ?? 'Reason'}</Label>
                {props.multilineReason ? <TextArea rows={3} /> : <Input />}
              </TextField>
              {error && (
                <p role="alert" className="error">
                  {error}
                </p>
              )}
              <div className="actions">
                <Button className="button" onPress={close}>
                  Cancel
                </Button>
                <Button className={props.danger ? 'button danger' : 'button primary'} type="submit" isDisabled={busy}>
                  {props.confirmLabel}
                </Button>
              </div>
            </form>
          )}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}
